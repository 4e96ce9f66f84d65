import Foundation
import Redis
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// Redis misbehaving while webhooks arrive: scripts flushed, the server killed, the server stalled. Senders see only
/// 202s or 503s with `Retry-After`, and every 202 is exactly one entry in the stream.
@Suite struct GatewayRedisFaultTests {
    typealias H = GatewayHarness

    /// Runs `action` against Redis from a plain thread after `delay`, while the caller's load runs.
    static func after(_ delay: Duration, _ action: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            action()
        }
    }

    static func redisCommand(_ url: String, _ arguments: RedisArgument...) {
        guard let configuration = try? RedisConfiguration(url: url),
              let connection = try? RedisConnection(configuration: configuration) else { return }
        _ = try? connection.send(arguments)
        connection.close()
    }

    @Test func scriptFlushUnderLoadIsInvisibleToSenders() async throws {
        let harness = try H("fault-flush")
        defer { harness.cleanUp() }
        let url = harness.redisURL
        let results = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            for step in 1...4 {
                Self.after(.milliseconds(300 * step)) { Self.redisCommand(url, "SCRIPT", "FLUSH") }
            }
            return await RawLoad.run(port: port, lanes: 6, duration: .seconds(2), tag: "flush")
        }
        #expect(results.count > 100)
        #expect(results.statuses.count == results.count, "requests dropped or refused")
        #expect(results.statuses.allSatisfy { $0 == 202 }, "answers other than 202: \(Set(results.statuses))")
        #expect(results.halfAnswered.isEmpty)
        let stored = try harness.streamWebhookIds()
        #expect(stored.count == results.acceptedIds.count)
        #expect(Set(stored).symmetricDifference(results.acceptedIds).isEmpty)
    }

    /// A kill -9 can land after Redis wrote an enqueue to its AOF and before it sent the reply: that webhook got a 503
    /// yet is stored. Its sender retries (Retry-After) and gets a 202 as a duplicate, so after the retries the webhooks
    /// that got a 202 and the stream's entries are exactly the same set: nothing lost, nothing twice.
    @Test func redisKilledUnderLoadGivesOnly503sAndEvery202IsStoredOnce() async throws {
        // Every write is on disk before Redis answers it, so what got a 202 survives the kill.
        let redis = try RedisServerProcess.start(appendOnly: true, fsyncAlways: true)
        defer { redis.stop() }
        let harness = try H("fault-kill", redisURL: redis.url)
        let restarted = Mutex<ContinuousClock.Instant?>(nil)
        let (results, retried, recoveredAfter) = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            Self.after(.milliseconds(800)) {
                redis.kill9()
                Thread.sleep(forTimeInterval: 1)
                try? redis.restart()
                restarted.withLock { $0 = ContinuousClock.now }
            }
            let results = await RawLoad.run(port: port, lanes: 4, duration: .seconds(4), tag: "kill")
            // How soon after the restart webhooks were accepted again, under the load.
            let restartedAt = try #require(restarted.withLock { $0 })
            let recoveredAfter = results.firstAccepted(after: restartedAt).map { $0 - restartedAt }
            let connection = try LoopbackConnection(port: port)
            // The senders of the 503s retry, as Retry-After tells them to.
            var retried: [(id: String, status: Int)] = []
            for id in results.unavailableIds {
                #expect(connection.send(try GatewayPipelineTests.signedWebhook(id: id)))
                retried.append((id, connection.nextReply()?.status ?? 0))
            }
            return (results, retried, recoveredAfter)
        }
        #expect(results.unexpectedAnswers.isEmpty, "answers other than 202 and 503+Retry-After: \(results.unexpectedAnswers.prefix(5))")
        #expect(results.halfAnswered.isEmpty)
        #expect(!results.unavailableIds.isEmpty, "the outage was not seen")
        #expect(!results.acceptedIds.isEmpty)
        // Reconnect backoff is capped at 1 s: once Redis is back, 202s are back within about that.
        #expect(recoveredAfter.map { $0 < .seconds(2) } == true, "first 202 \(recoveredAfter.map { "\($0)" } ?? "never") after the restart")
        #expect(retried.allSatisfy { $0.status == 202 }, "retries not accepted: \(retried.filter { $0.status != 202 }.prefix(5))")

        let stored = try harness.streamWebhookIds().filter { $0.hasPrefix("kill-") }
        let accepted = Set(results.acceptedIds + retried.map(\.id))
        #expect(stored.count == Set(stored).count, "an entry is in the stream twice")
        #expect(Set(stored).symmetricDifference(accepted).isEmpty, "\(stored.count) stored, \(accepted.count) accepted")
        // Every first-time 202 was stored before its answer (fsync always): none of them may be missing.
        #expect(Set(results.acceptedIds).subtracting(stored).isEmpty)
    }

    @Test func aStalledRedisHitsThePendingCapWith503sAndRecovers() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let cap = 4
        let harness = try H("fault-cap", redisURL: redis.url) {
            $0.eventLoopThreads = 1
            $0.maxPendingPerLoop = cap
            // No backlog gauge XLEN in the window: the cap is all the webhooks'.
            $0.readinessInterval = .seconds(30)
            // The stall must not count as a lost link.
            $0.queue.commandTimeout = .seconds(5)
        }
        let ids = (0..<12).map { H.uniqueId("cap\($0)") }
        let (during, after) = try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            try GatewayWireTests.stall(redisURL: redis.url, seconds: "1.5")
            var connections: [LoopbackConnection] = []
            for id in ids {
                let connection = try LoopbackConnection(port: port)
                #expect(connection.send(try GatewayPipelineTests.signedWebhook(id: id)))
                connections.append(connection)
            }
            // While Redis still sleeps: the webhooks past the cap are answered already, the others not yet.
            try await Task.sleep(for: .milliseconds(250))
            var early: [LoopbackHTTPClient.Reply] = []
            for connection in connections {
                connection.setReadTimeout(.milliseconds(20))
                if let reply = connection.nextReply() { early.append(reply) }
            }
            var during = early
            for connection in connections where connection.unconsumedBytes == 0 && connection.bytesReceived.isEmpty {
                connection.setReadTimeout(.seconds(5))
                during += [try #require(connection.nextReply())]
            }
            let recovery = try LoopbackConnection(port: port)
            #expect(recovery.send(try GatewayPipelineTests.signedWebhook(id: H.uniqueId("recovered"))))
            return ((early, during), try recovery.readReplies(1))
        }
        let (early, all) = during
        // Refused at once, while Redis slept: nothing beyond the cap waits in memory.
        #expect(early.map(\.status) == Array(repeating: 503, count: ids.count - cap))
        #expect(early.allSatisfy { $0.header("retry-after") != nil })
        #expect(all.filter { $0.status == 202 }.count == cap)
        #expect(all.count == ids.count)
        #expect(after.map(\.status) == [202])
        #expect(try harness.streamWebhookIds().count == cap + 1)
    }
}
