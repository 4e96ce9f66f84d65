import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Redis
import Runtime
import StandardWebhooks
import TestSupport
import Testing

@testable import Gateway
@testable import Queue

/// Stands in for the loop's Redis connection: holds each enqueue until the test answers it, or refuses them all.
final class FakeEnqueueSender: EnqueueSender, ReplicaWaitSender {
    /// What `QueueLink` would hold: each caller's relay, as the link sees it.
    var waiting: [QueueCaller.Relay] = []
    /// Replica waits asked for, in order.
    var replicaListeners: [any ReplicaWaitListener] = []
    var refuseAll = false

    func awaitReplicas(_ wait: ReplicaWait, listener: any ReplicaWaitListener) {
        replicaListeners.append(listener)
    }

    /// Answers every replica wait asked for so far with `result`.
    func answerReplicaWaits(_ result: ReplicaWaitResult) {
        let listeners = replicaListeners
        replicaListeners.removeAll()
        for listener in listeners { listener.replicasReplied(result) }
    }

    func submit(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> any ReplicaWaitSender {
        if refuseAll { throw .unavailable }
        caller.relay.willSend()
        waiting.append(caller.relay)
        return self
    }

    /// The oldest waiting command as written, and answers it with `reply`.
    func answerOldest(_ reply: RESPValue) -> String {
        guard !waiting.isEmpty else {
            Issue.record("no command is waiting")
            return ""
        }
        let requester = waiting.removeFirst()
        var command = ByteBuffer()
        requester.writeCommand(into: &command)
        requester.redisReplied(.success(reply))
        return String(buffer: command)
    }

    /// Answers the oldest waiting enqueue as Redis would ("accepted"), after checking it wrote a command.
    func acceptOldest() {
        guard !waiting.isEmpty else {
            Issue.record("no enqueue is waiting")
            return
        }
        let requester = waiting.removeFirst()
        var command = ByteBuffer()
        requester.writeCommand(into: &command)
        #expect(String(buffer: command).hasPrefix("*18\r\n$7\r\nEVALSHA"))
        requester.redisReplied(.success(.array([.bulkString(Array("accepted".utf8)), .bulkString(Array("1-0".utf8))])))
    }
}

/// The HTTP pipeline without sockets or Redis (an `EmbeddedChannel`; the loop's Redis link never connects, or a fake
/// sender stands in for it): bytes in, answers out, in order.
@Suite struct GatewayPipelineTests {
    typealias H = GatewayHarness

    /// A channel with the gateway's pipeline; its Redis link is down, so a valid webhook gets 503 unless `sender`
    /// stands in for it.
    static func makeChannel(
        maxBodyBytes: Int = 200, sender: FakeEnqueueSender? = nil, replicaWait: ReplicaWait? = nil
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        var configuration = try H("pipeline").configuration
        configuration.maxBodyBytes = maxBodyBytes
        configuration.replicaWait = replicaWait
        configuration.eventLoopThreads = 1
        let process = GatewayProcessState(
            metrics: GatewayMetrics(), shutdown: ShutdownFlag(), exposition: { Array("# metrics\n".utf8) })
        let loop = GatewayLoop(
            index: 0, eventLoop: channel.embeddedEventLoop, configuration: configuration, process: process, clusterMap: nil,
            logger: H.logger)
        process.register(loop.queue.status)
        if let sender { loop.sender = sender }
        try GatewayHTTPHandler.addHandlers(to: channel.pipeline.syncOperations, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return channel
    }

    /// Writes `bytes` as one read and returns every answer written so far, parsed.
    static func exchange(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws -> [LoopbackHTTPClient.Reply] {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var out: [UInt8] = []
        while let part = try channel.readOutbound(as: ByteBuffer.self) { out += Array(part.readableBytesView) }
        return try LoopbackHTTPClient.parseAll(out)
    }

    /// Everything written so far, as bytes.
    static func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while let part = try channel.readOutbound(as: ByteBuffer.self) { out += Array(part.readableBytesView) }
        return out
    }

    static func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: String = "") -> [UInt8] {
        LoopbackHTTPClient.request(
            port: 80, method: method, path: path, headers: headers.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8))
    }

    static func signedWebhook(id: String, body: String = GatewayHarness.validBody) throws -> [UInt8] {
        let signed = try H.signedHeaders(id: id, body: body)
        var headers: [(String, String)] = []
        for field in signed { headers.append((field.name.rawName, field.value)) }
        return request("POST", "/document/update", headers: headers, body: body)
    }

    @Test func pipelinedRequestsInOneReadAreAnsweredInOrder() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let bytes = Self.request("GET", "/nope")
            + Self.request("PUT", "/document/update")
            + Self.request("GET", "/livez")
            + Self.request("POST", "/document/update", headers: [("Content-Type", "application/json")], body: H.validBody)
            + (try Self.signedWebhook(id: "msg_pipelined"))
            + Self.request("GET", "/readyz")
        let replies = try Self.exchange(channel, bytes)
        #expect(replies.map(\.status) == [404, 405, 200, 401, 503, 503])
        #expect(replies[1].header("allow") == "POST")
        #expect(replies[2].body == "ok\n")
        // The link never connected: the webhook is refused at once with Retry-After, and the gateway is not ready.
        #expect(replies[4].header("retry-after") == GatewayAnswer.retryAfterUnavailable)
        #expect(replies[4].body.contains("queue-unavailable"))
        #expect(replies[5].body == "not ready\n")
        #expect(Set(replies.compactMap { $0.header("x-request-id") }).count == 6)
    }

    @Test func aChunkedBodyPastTheLimitIs413AndTheConnectionStaysUsable() throws {
        let channel = try Self.makeChannel(maxBodyBytes: 100)
        defer { _ = try? channel.finish() }
        let chunk = String(repeating: "x", count: 80)
        var bytes = Array("POST /document/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for _ in 0..<3 { bytes += Array("50\r\n\(chunk)\r\n".utf8) }
        bytes += Array("0\r\n\r\n".utf8)
        bytes += Self.request("GET", "/livez")
        let replies = try Self.exchange(channel, bytes)
        #expect(replies.map(\.status) == [413, 200])
        #expect(replies[0].header("content-type") == "application/problem+json")
        #expect(channel.isActive)
    }

    @Test func aDeclaredLengthPastTheLimitIsRefusedBeforeTheBody() throws {
        let channel = try Self.makeChannel(maxBodyBytes: 100)
        defer { _ = try? channel.finish() }
        let head = "POST /document/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
        // Only the head has arrived, and the answer is already out.
        let early = try Self.exchange(channel, Array(head.utf8))
        #expect(early.map(\.status) == [413])
        // The body that follows is dropped; the next request is answered.
        let later = try Self.exchange(channel, Array(repeating: UInt8(ascii: "y"), count: 5000) + Self.request("GET", "/healthz"))
        #expect(later.map(\.status) == [200])
    }

    @Test func expectContinueGets100ThenTheAnswer() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let head = "POST /document/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: head))
        let continued = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: continued).hasPrefix("HTTP/1.1 100 Continue"))
        let replies = try Self.exchange(channel, Array("{}".utf8))
        #expect(replies.map(\.status) == [401])
    }

    @Test func aRefusedExpectContinueClosesTheConnection() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let head = "POST /document/update HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        let replies = try Self.exchange(channel, Array(head.utf8))
        #expect(replies.map(\.status) == [415])
        #expect(replies[0].header("connection") == "close")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func http10WithoutKeepAliveIsClosedAfterItsAnswer() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let replies = try Self.exchange(channel, Array("GET /livez HTTP/1.0\r\n\r\n".utf8))
        #expect(replies.map(\.status) == [200])
        #expect(replies[0].header("connection") == "close")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func malformedRequestIs400AndCloses() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        _ = try? channel.writeInbound(ByteBuffer(string: "NOT HTTP AT ALL\r\n\r\n"))
        var out: [UInt8] = []
        while let part = try channel.readOutbound(as: ByteBuffer.self) { out += Array(part.readableBytesView) }
        #expect(String(decoding: out, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func requestsBehindAnEnqueueWaitAndAreAnsweredInOrderAfterIt() throws {
        let sender = FakeEnqueueSender()
        let channel = try Self.makeChannel(sender: sender)
        defer { _ = try? channel.finish() }
        let bytes = (try Self.signedWebhook(id: "msg_first")) + Self.request("GET", "/livez")
            + (try Self.signedWebhook(id: "msg_second")) + Self.request("GET", "/nope")
        // The first webhook awaits Redis: nothing behind it may be answered before it.
        #expect(try Self.exchange(channel, bytes).isEmpty)
        #expect(sender.waiting.count == 1)
        sender.acceptOldest()
        // 202, then /livez; the second webhook now awaits Redis, and the 404 behind it waits too.
        var replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [202, 200])
        #expect(replies.first?.body == #"{"id":"msg_first"}"#)
        #expect(sender.waiting.count == 1)
        sender.acceptOldest()
        replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [202, 404])
        #expect(replies.first?.body == #"{"id":"msg_second"}"#)
    }

    /// DOCKET_REDIS_MIN_REPLICAS: an accepted or duplicate enqueue is answered only after its link's replica wait; too
    /// few acknowledgements is 503 replicas-unavailable, no answer 503 queue-unavailable, a full backlog needs no wait.
    @Test func replicaWaitDecidesBetween202And503() throws {
        let sender = FakeEnqueueSender()
        let channel = try Self.makeChannel(sender: sender, replicaWait: ReplicaWait(replicas: 2, timeoutMilliseconds: 300))
        defer { _ = try? channel.finish() }
        let accepted = RESPValue.array([.bulkString(Array("accepted".utf8)), .bulkString(Array("1-0".utf8))])

        // Accepted, then 2 replicas: 202.
        #expect(try Self.exchange(channel, try Self.signedWebhook(id: "msg_replicated")).isEmpty)
        #expect(sender.answerOldest(accepted).hasPrefix("*18\r\n$7\r\nEVALSHA"))
        #expect(try Self.written(channel).isEmpty, "answered before the replicas acknowledged")
        #expect(sender.replicaListeners.count == 1)
        sender.answerReplicaWaits(.acknowledged(2))
        var replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [202])

        // Accepted, but only 1 replica in time: 503 with Retry-After and its own problem type.
        _ = try Self.exchange(channel, try Self.signedWebhook(id: "msg_lagging"))
        _ = sender.answerOldest(accepted)
        sender.answerReplicaWaits(.acknowledged(1))
        replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [503])
        #expect(replies.first?.header("retry-after") == "1")
        #expect(replies.first?.body.contains("replicas-unavailable") == true)

        // A duplicate waits too; a wait that got no answer (the link failed) is 503 queue-unavailable.
        _ = try Self.exchange(channel, try Self.signedWebhook(id: "msg_dup"))
        _ = sender.answerOldest(.array([.bulkString(Array("duplicate".utf8))]))
        #expect(sender.replicaListeners.count == 1, "a duplicate was answered without a replica wait")
        sender.answerReplicaWaits(.failed)
        replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [503])
        #expect(replies.first?.body.contains("queue-unavailable") == true)

        // Over the backlog: 503 at once, no wait.
        _ = try Self.exchange(channel, try Self.signedWebhook(id: "msg_full"))
        _ = sender.answerOldest(.array([.bulkString(Array("backlog".utf8))]))
        #expect(sender.replicaListeners.isEmpty)
        replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [503])
        #expect(replies.first?.body.contains("backlog-full") == true)
    }

    @Test func readingStopsWhileAnEnqueueWaits() throws {
        let sender = FakeEnqueueSender()
        let channel = try Self.makeChannel(sender: sender)
        defer { _ = try? channel.finish() }
        let reads = ReadCounter()
        try channel.pipeline.syncOperations.addHandler(reads, position: .first)
        _ = try Self.exchange(channel, try Self.signedWebhook(id: "msg_held"))
        let before = reads.count
        channel.read()
        #expect(reads.count == before, "a read went through while the enqueue waited")
        sender.acceptOldest()
        #expect(reads.count == before + 1, "the held read was not resumed")
    }

    @Test func aMalformedRequestBehindAWaitingEnqueueGetsItsAnswerAfterIt() throws {
        let sender = FakeEnqueueSender()
        let channel = try Self.makeChannel(sender: sender)
        defer { _ = try? channel.finish() }
        _ = try Self.exchange(channel, (try Self.signedWebhook(id: "msg_before_garbage")) + Array("NOT HTTP\r\n\r\n".utf8))
        // More bytes after the parse error change nothing.
        _ = try? channel.writeInbound(ByteBuffer(string: "more garbage\r\n\r\n"))
        #expect(channel.isActive)
        sender.acceptOldest()
        let replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [202, 400])
        #expect(replies[1].header("content-type") == "application/problem+json")
        #expect(replies[1].header("connection") == "close")
        #expect(replies[1].header("x-request-id") != nil)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func quiescingWhileAnEnqueueWaitsAnswersItThenCloses() throws {
        let sender = FakeEnqueueSender()
        let channel = try Self.makeChannel(sender: sender)
        defer { _ = try? channel.finish() }
        _ = try Self.exchange(channel, (try Self.signedWebhook(id: "msg_in_flight")) + Self.request("GET", "/livez"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive)
        sender.acceptOldest()
        // The request in flight is answered (with connection: close); the one not started is not answered at all.
        let replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.map(\.status) == [202])
        #expect(replies[0].header("connection") == "close")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func quiescingAnIdleConnectionClosesIt() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        #expect(try Self.exchange(channel, Self.request("GET", "/livez")).map(\.status) == [200])
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func manyQueuedWebhooksRefusedAtOnceAreAllAnsweredInOrder() throws {
        let sender = FakeEnqueueSender()
        let channel = try Self.makeChannel(sender: sender)
        defer { _ = try? channel.finish() }
        var bytes: [UInt8] = []
        for n in 0..<500 { bytes += try Self.signedWebhook(id: "msg_\(n)") }
        _ = try Self.exchange(channel, bytes)
        // Redis goes away: the first gets 503 from its failed reply, the 499 queued ones are refused one after another
        // (a loop, not a recursion per request).
        sender.refuseAll = true
        sender.waiting.removeFirst().redisReplied(.failure(RedisError(code: .connection, message: "lost")))
        let replies = try LoopbackHTTPClient.parseAll(try Self.written(channel))
        #expect(replies.count == 500)
        #expect(replies.allSatisfy { $0.status == 503 && $0.header("retry-after") != nil })
    }

    @Test func headAnswersCarryNoBody() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(bytes: Self.request("HEAD", "/livez") + Self.request("GET", "/healthz")))
        let text = String(decoding: try Self.written(channel), as: UTF8.self)
        // 405 for HEAD with its content-length but no body, then the next answer right after the blank line.
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts[0].hasPrefix("HTTP/1.1 405"))
        #expect(parts[1].hasPrefix("HTTP/1.1 200"))
        #expect(parts[2] == "ok\n")
    }

    @Test func anUpgradeRequestIsAnsweredAndTheConnectionClosed() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let bytes = Self.request("GET", "/livez", headers: [("Connection", "upgrade"), ("Upgrade", "websocket")])
            + Array("whatever the client sends next".utf8)
        let replies = try Self.exchange(channel, bytes)
        #expect(replies.map(\.status) == [200])
        #expect(replies[0].header("connection") == "close")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func expectContinueOnAnotherRouteIsAnsweredAtOnceAndCloses() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let head = "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
        let replies = try Self.exchange(channel, Array(head.utf8))
        #expect(replies.map(\.status) == [404])
        #expect(replies[0].header("connection") == "close")
    }
}

/// Counts `read` calls reaching the socket end of the pipeline.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
