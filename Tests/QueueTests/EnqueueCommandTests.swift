import Model
import Queue
import NIOCore
import Redis
import RedisNIO
import Testing

@testable import Queue

/// The gateway's pre-encoded enqueue writes byte for byte what `EventQueue.enqueue` sends, and reads its replies alike.
@Suite struct EnqueueCommandTests {
    /// RESP of an argument list, as any client would send it.
    static func encoded(_ arguments: [RedisArgument]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeRESPArrayHeader(count: arguments.count)
        for argument in arguments { buffer.writeRESPBulkString(argument.bytes) }
        return Array(buffer.readableBytesView)
    }

    @Test(arguments: [
        ("msg_1", #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"}"#),
        ("id with ünïcode and spaces", ""),
        ("x", String(repeating: "b", count: 70_000)),
    ])
    func bytesMatchTheGeneralPath(_ sample: (id: String, body: String)) {
        let queue = EventQueue(prefix: "some-prefix")
        let envelope = EventEnvelope(
            webhookId: sample.id, timestamp: 1_796_000_000, receivedAt: 1_796_000_000_123, body: Array(sample.body.utf8))
        let command = EnqueueCommand(keys: queue.keys, dedupeTTLSeconds: 86_400, maxBacklog: 1_000_000)
        var buffer = ByteBuffer(string: "already here|")
        command.write(
            webhookId: envelope.webhookId, timestamp: envelope.timestamp, receivedAt: envelope.receivedAt,
            body: ByteBuffer(bytes: envelope.body), into: &buffer)

        let expected = Self.encoded(
            [RedisArgument("EVALSHA"), RedisArgument(QueueScripts.enqueue.sha1), RedisArgument(2),
             RedisArgument(queue.keys.events), RedisArgument(queue.keys.seen(envelope.webhookId))]
                + queue.enqueueArguments(envelope, dedupeTTLSeconds: 86_400, maxBacklog: 1_000_000))
        #expect(Array(buffer.readableBytesView) == Array("already here|".utf8) + expected)
    }

    @Test func repliesMapToOutcomes() throws {
        #expect(try EnqueueCommand.outcome(.array([.bulkString(Array("accepted".utf8)), .bulkString(Array("5-0".utf8))]))
            == .accepted(entryId: "5-0"))
        #expect(try EnqueueCommand.outcome(.array([.bulkString(Array("duplicate".utf8))])) == .duplicate)
        #expect(try EnqueueCommand.outcome(.array([.bulkString(Array("backlog".utf8))])) == .overBacklog)
        #expect(throws: RedisError.self) { try EnqueueCommand.outcome(.error("NOSCRIPT No matching script")) }
        #expect(throws: RedisError.self) { try EnqueueCommand.outcome(.integer(1)) }
    }
}

@Suite struct BacklogCommandTests {
    @Test func writesXLENOfTheEventsStreamAndReadsItsReply() {
        var buffer = ByteBuffer()
        BacklogCommand(keys: QueueKeys(prefix: "bk")).write(into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "*2\r\n$4\r\nXLEN\r\n$11\r\n{bk}:events\r\n")
        #expect(BacklogCommand.backlog(from: .integer(42)) == 42)
        #expect(BacklogCommand.backlog(from: .error("WRONGTYPE")) == nil)
    }
}
