import Foundation
import Redis
import TestSupport
import Testing

@testable import Gateway

/// The live gateway seen from raw sockets: pipelining, clients that vanish, slow clients, bodies over the limit.
@Suite struct GatewayWireTests {
    typealias H = GatewayHarness
    typealias P = GatewayPipelineTests

    /// `{"id":"<id>"}` for each id, in order.
    static func acceptedBodies(_ ids: [String]) -> [String] {
        ids.map { #"{"id":"\#($0)"}"# }
    }

    /// Makes Redis sleep (`DEBUG SLEEP`) from another thread, as a hung server would, and returns once it is asleep
    /// (a PING from another client goes unanswered).
    static func stall(redisURL: String, seconds: String) throws {
        let configuration = try RedisConfiguration(url: redisURL)
        Thread.detachNewThread {
            guard let admin = try? RedisConnection(configuration: configuration) else { return }
            _ = try? admin.send("DEBUG", "SLEEP", RedisArgument(seconds))
            admin.close()
        }
        try waitUntil(timeout: .seconds(5), poll: .milliseconds(5), what: "Redis to stall") {
            let probe = try LoopbackConnection(port: configuration.port, timeout: .milliseconds(50))
            defer { probe.close() }
            return probe.send(Array("PING\r\n".utf8)) && probe.readToEnd().isEmpty
        }
    }

    @Test func pipelinedRequestsInOneWriteAreAnsweredInOrder() async throws {
        let harness = try H("wire-pipeline")
        defer { harness.cleanUp() }
        let ids = (0..<8).map { H.uniqueId("p\($0)") }
        let replies = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            let connection = try LoopbackConnection(port: port)
            var bytes: [UInt8] = []
            for (index, id) in ids.enumerated() {
                bytes += try P.signedWebhook(id: id)
                // Answers that need no Redis, between ones that do: they must still come back in request order.
                if index % 3 == 0 { bytes += P.request("GET", "/livez") }
            }
            #expect(connection.send(bytes))
            return try connection.readReplies(ids.count + 3)
        }
        let webhookReplies = replies.filter { $0.body != "ok\n" }
        #expect(replies.count == ids.count + 3)
        #expect(replies.map(\.status) == [202, 200, 202, 202, 202, 200, 202, 202, 202, 200, 202])
        #expect(webhookReplies.map(\.body) == Self.acceptedBodies(ids))
        #expect(try harness.streamWebhookIds() == ids)
    }

    @Test func aClientThatLeavesBeforeItsAnswerShiftsNoOneElsesAnswer() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        // One event loop, so both clients share one Redis connection and its reply order.
        let harness = try H("wire-leaver", redisURL: redis.url) {
            $0.eventLoopThreads = 1
            // The stall below must not count as a lost link.
            $0.queue.commandTimeout = .seconds(5)
        }
        defer { harness.cleanUp() }
        let leaverIds = (0..<3).map { H.uniqueId("gone\($0)") }
        let stayerIds = (0..<6).map { H.uniqueId("stay\($0)") }
        let replies = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            // Redis sleeps, so every enqueue below is waiting for its reply at once.
            try Self.stall(redisURL: redis.url, seconds: "1.5")
            let sent = ContinuousClock.now
            var leavers: [LoopbackConnection] = []
            for (index, id) in leaverIds.enumerated() {
                let stayer = try LoopbackConnection(port: port)
                #expect(stayer.send(try P.signedWebhook(id: stayerIds[index * 2]) + (try P.signedWebhook(id: stayerIds[index * 2 + 1]))))
                let leaver = try LoopbackConnection(port: port)
                #expect(leaver.send(try P.signedWebhook(id: id)))
                leavers.append(leaver)
                leavers.append(stayer)
            }
            try await Task.sleep(for: .milliseconds(100))
            for (index, connection) in leavers.enumerated() where index % 2 == 0 { connection.close() }
            var replies: [[LoopbackHTTPClient.Reply]] = []
            for (index, connection) in leavers.enumerated() where index % 2 == 1 {
                replies.append(try connection.readReplies(2))
            }
            // The answers waited for the stall: the leavers' enqueues were pending when they closed.
            #expect(ContinuousClock.now - sent > .milliseconds(500))
            return replies
        }
        for (index, pair) in replies.enumerated() {
            #expect(pair.map(\.status) == [202, 202])
            #expect(pair.map(\.body) == Self.acceptedBodies([stayerIds[index * 2], stayerIds[index * 2 + 1]]))
        }
        // The leavers' webhooks were enqueued all the same (their senders will retry; dedupe absorbs it).
        #expect(Set(try harness.streamWebhookIds()) == Set(stayerIds + leaverIds))
    }

    @Test func aSlowClientTricklingItsBodyDelaysNoOneElse() async throws {
        let harness = try H("wire-slow") { $0.eventLoopThreads = 1 }
        defer { harness.cleanUp() }
        let slowId = H.uniqueId("slow")
        let quickIds = (0..<5).map { H.uniqueId("quick\($0)") }
        let (quickElapsed, quick, slow) = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            let request = try P.signedWebhook(id: slowId)
            let slowConnection = try LoopbackConnection(port: port)
            // Head and half the body, then nothing for a while.
            let half = request.count - H.validBody.utf8.count / 2
            #expect(slowConnection.send(Array(request[..<half])))
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            var quick: [LoopbackHTTPClient.Reply] = []
            for id in quickIds {
                let connection = try LoopbackConnection(port: port)
                #expect(connection.send(try P.signedWebhook(id: id)))
                quick += try connection.readReplies(1)
            }
            let quickElapsed = ContinuousClock.now - started
            for byte in request[half...] {
                #expect(slowConnection.send([byte]))
                try await Task.sleep(for: .milliseconds(5))
            }
            return (quickElapsed, quick, try slowConnection.readReplies(1))
        }
        #expect(quick.map(\.status) == Array(repeating: 202, count: 5))
        #expect(quickElapsed < .seconds(1), "five quick webhooks took \(quickElapsed) next to a slow one")
        #expect(slow.map(\.status) == [202])
        #expect(Set(try harness.streamWebhookIds()) == Set(quickIds + [slowId]))
    }

    @Test func bodiesOverTheLimitAre413DeclaredOrChunked() async throws {
        let harness = try H("wire-413") { $0.maxBodyBytes = 200 }
        defer { harness.cleanUp() }
        let afterId = H.uniqueId("after")
        let (declared, chunked) = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            // Declared: answered from the head alone, before a byte of the body is sent.
            let declaredConnection = try LoopbackConnection(port: port)
            let head = "POST /document/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            #expect(declaredConnection.send(Array(head.utf8)))
            let declared = try declaredConnection.readReplies(1)

            // Chunked: cut off at the limit; the connection then serves the next request.
            let chunkedConnection = try LoopbackConnection(port: port)
            var bytes = Array("POST /document/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            for _ in 0..<4 { bytes += Array("64\r\n\(String(repeating: "z", count: 100))\r\n".utf8) }
            bytes += Array("0\r\n\r\n".utf8)
            bytes += try P.signedWebhook(id: afterId)
            #expect(chunkedConnection.send(bytes))
            return (declared, try chunkedConnection.readReplies(2))
        }
        #expect(declared.map(\.status) == [413])
        #expect(chunked.map(\.status) == [413, 202])
        #expect(try harness.streamWebhookIds() == [afterId])
    }
}
