public import NIOCore
import RedisNIO

/// `WAIT numreplicas timeout` as an event-loop connection writes it (docs/reference.md §4, "What a 202 means"): sent
/// after an enqueue on the same connection, it returns once `replicas` replicas acknowledged every write that
/// connection made, or after `timeoutMilliseconds` with how many did.
public struct ReplicaWait: Sendable {
    public let replicas: Int
    public let timeoutMilliseconds: Int
    private let bytes: [UInt8]

    public init(replicas: Int, timeoutMilliseconds: Int) {
        self.replicas = replicas
        self.timeoutMilliseconds = timeoutMilliseconds
        var buffer = ByteBuffer()
        buffer.writeRESPCommand("WAIT", String(replicas), String(timeoutMilliseconds))
        bytes = Array(buffer.readableBytesView)
    }

    public func write(into buffer: inout ByteBuffer) {
        buffer.writeBytes(bytes)
    }

    /// True when the reply counts at least `replicas` acknowledgements.
    public func isSatisfied(by reply: QueueReply) -> Bool {
        (reply.replicasAcknowledged ?? -1) >= replicas
    }
}
