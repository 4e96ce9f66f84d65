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
    /// The `timestamp`, `received_at` and `body` field names as bulk strings.
    private let timestampName: [UInt8]
    private let receivedAtName: [UInt8]
    private let bodyName: [UInt8]
    /// The `attempt` field and its value 0.
    private let tail: [UInt8]
    /// What every command needs besides the id (twice), the body and the two decimals: for reserving memory.
    private let fixedSize: Int

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

        func bulk(_ text: String) -> [UInt8] {
            var buffer = ByteBuffer()
            buffer.writeRESPBulkString(text)
            return Array(buffer.readableBytesView)
        }
        timestampName = bulk(EventEnvelope.Field.timestamp.rawValue)
        receivedAtName = bulk(EventEnvelope.Field.receivedAt.rawValue)
        bodyName = bulk(EventEnvelope.Field.body.rawValue)
        tail = bulk(EventEnvelope.Field.attempt.rawValue) + bulk("0")
        fixedSize = head.count + seenPrefix.count + middle.count + timestampName.count + receivedAtName.count
            + bodyName.count + tail.count + 5 * RESPRawWriter.bulkOverhead + 2 * RESPRawWriter.maxDecimalBytes
    }

    /// Appends the command for one verified webhook; `body` is stored verbatim and is not consumed. The whole command
    /// is written into memory reserved once.
    public func write(webhookId: String, timestamp: Int, receivedAt: Int, body: ByteBuffer, into buffer: inout ByteBuffer) {
        var id = webhookId
        id.withUTF8 { id in
            body.withUnsafeReadableBytes { body in
                let reserve = fixedSize + 2 * id.count + body.count
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: reserve) { memory in
                    var out = RESPRawWriter(memory)
                    out.raw(head)
                    // The seen key: the prefix and the id, as one bulk string.
                    out.bulkHeader(length: seenPrefix.count + id.count)
                    out.raw(seenPrefix)
                    out.raw(UnsafeRawBufferPointer(id))
                    out.crlf()
                    out.raw(middle)
                    out.bulk(UnsafeRawBufferPointer(id))
                    out.raw(timestampName)
                    out.bulk(decimal: timestamp)
                    out.raw(receivedAtName)
                    out.bulk(decimal: receivedAt)
                    out.raw(bodyName)
                    out.bulk(body)
                    out.raw(tail)
                    return out.count
                }
            }
        }
    }

    /// What Redis's answer to the command means; an error reply or an unexpected shape throws.
    public static func outcome(_ reply: RESPValue) throws(RedisError) -> EnqueueOutcome {
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return try EventQueue.outcome(reply)
    }
}
