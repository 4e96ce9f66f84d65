import Model
public import NIOCore
public import Redis
import RedisNIO

/// The gateway's enqueue (`QueueScripts.enqueue` by digest) as RESP bytes written straight into an event-loop
/// connection's output buffer: everything that does not change per webhook is encoded once, at start.
///
/// It writes exactly what `EventQueue.enqueue` sends (same keys, arguments and stream fields, in the same order), so
/// workers read entries from either path alike.
public struct EnqueueCommand: Sendable {
    /// `*18`, EVALSHA, the digest, `2` keys, the events key.
    private let head: [UInt8]
    /// `{PREFIX}:seen:`, the dedupe key without its webhook id.
    private let seenPrefix: [UInt8]
    /// Dedupe TTL, max backlog, group, and the `webhook_id` field name.
    private let middle: [UInt8]

    /// The script the command runs; a connection must load it (and reload it after `NOSCRIPT`).
    public static var script: RedisScript { QueueScripts.enqueue }

    public init(keys: QueueKeys, dedupeTTLSeconds: Int, maxBacklog: Int) {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        // EVALSHA sha numkeys events seen ttl backlog group + five field/value pairs.
        buffer.writeRESPArrayHeader(count: 18)
        buffer.writeRESPBulkString("EVALSHA")
        buffer.writeRESPBulkString(QueueScripts.enqueue.sha1)
        buffer.writeRESPBulkString(decimal: 2)
        buffer.writeRESPBulkString(keys.events)
        head = Array(buffer.readableBytesView)

        seenPrefix = Array(keys.seen("").utf8)

        buffer.clear()
        buffer.writeRESPBulkString(decimal: dedupeTTLSeconds)
        buffer.writeRESPBulkString(decimal: maxBacklog)
        buffer.writeRESPBulkString(QueueKeys.group)
        buffer.writeRESPBulkString(EventEnvelope.Field.webhookId.rawValue)
        middle = Array(buffer.readableBytesView)
    }

    /// Appends the command for one verified webhook; `body` is stored verbatim and is not consumed.
    public func write(webhookId: String, timestamp: Int, receivedAt: Int, body: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeBytes(head)
        // The seen key is the prefix and the id, written as one bulk string without building it first.
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeString(String(seenPrefix.count + webhookId.utf8.count))
        buffer.writeInteger(UInt16(0x0D0A))
        buffer.writeBytes(seenPrefix)
        buffer.writeString(webhookId)
        buffer.writeInteger(UInt16(0x0D0A))
        buffer.writeBytes(middle)
        buffer.writeRESPBulkString(webhookId)
        buffer.writeRESPBulkString(EventEnvelope.Field.timestamp.rawValue)
        buffer.writeRESPBulkString(decimal: timestamp)
        buffer.writeRESPBulkString(EventEnvelope.Field.receivedAt.rawValue)
        buffer.writeRESPBulkString(decimal: receivedAt)
        buffer.writeRESPBulkString(EventEnvelope.Field.body.rawValue)
        buffer.writeRESPBulkString(body)
        buffer.writeRESPBulkString(EventEnvelope.Field.attempt.rawValue)
        buffer.writeRESPBulkString(decimal: 0)
    }

    /// What Redis's answer to the command means; an error reply or an unexpected shape throws.
    public static func outcome(_ reply: RESPValue) throws(RedisError) -> EnqueueOutcome {
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return try EventQueue.outcome(reply)
    }
}
