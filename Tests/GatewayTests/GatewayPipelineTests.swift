import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Runtime
import StandardWebhooks
import TestSupport
import Testing

@testable import Gateway

/// The HTTP pipeline without sockets or Redis (an `EmbeddedChannel` whose loop's Redis link never connects): bytes in,
/// answers out, in order.
@Suite struct GatewayPipelineTests {
    typealias H = GatewayHarness

    /// A channel with the gateway's pipeline; its Redis link is down, so a valid webhook gets 503.
    static func makeChannel(maxBodyBytes: Int = 200) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        var configuration = try H("pipeline").configuration
        configuration.maxBodyBytes = maxBodyBytes
        configuration.eventLoopThreads = 1
        let process = GatewayProcessState(
            metrics: GatewayMetrics(), shutdown: ShutdownFlag(), exposition: { Array("# metrics\n".utf8) })
        let loop = GatewayLoop(
            index: 0, eventLoop: channel.embeddedEventLoop, configuration: configuration, process: process, logger: H.logger)
        process.register(loop.redis.status)
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
}
