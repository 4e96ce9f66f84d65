public import NIOCore
public import Redis
import RedisNIO

/// The backlog probe (`XLEN {PREFIX}:events`) as an event-loop connection writes it, and its reply read: the gateway's
/// `docket_gateway_backlog` gauge asks the queue, not Redis.
public struct BacklogCommand: Sendable {
    private let key: String

    public init(keys: QueueKeys) {
        key = keys.events
    }

    /// Writes the command into a connection's output buffer.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeRESPCommand("XLEN", key)
    }

    /// The backlog from the reply, or nil when the reply is not a length.
    public static func backlog(from reply: RESPValue) -> Int? {
        reply.int
    }
}
