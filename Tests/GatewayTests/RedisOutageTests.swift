import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Gateway

/// Redis goes away mid-run: 503 + Retry-After quickly, readiness fails, then 202s again once it is back,
/// and every webhook that got a 202 is in the stream.
@Suite struct RedisOutageTests {
    typealias H = GatewayHarness

    @Test func redisStoppedMidRunGives503ThenRecovers() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try H("outage", redisURL: redis.url)

        let accepted = try await harness.withLiveGateway { client in
            var accepted: [String] = []
            func send() async throws -> GatewayTestResponse {
                let id = H.uniqueId()
                let response = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: id, body: H.validBody))
                if response.status == .accepted { accepted.append(id) }
                return response
            }
            for _ in 0..<20 { #expect(try await send().status == .accepted) }

            redis.stop()
            // Every answer while Redis is down is a quick 503 with Retry-After, never a 202.
            for _ in 0..<10 {
                let started = ContinuousClock.now
                let response = try await send()
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(ContinuousClock.now - started < .milliseconds(1500))
            }
            try await waitUntil(timeout: .seconds(5), what: "/readyz to fail") {
                try await client.execute(uri: "/readyz", method: .get).status == .serviceUnavailable
            }

            try redis.restart()
            try await waitUntil(timeout: .seconds(10), what: "a 202 after restart") {
                try await send().status == .accepted
            }
            for _ in 0..<20 { #expect(try await send().status == .accepted) }
            try await waitUntil(timeout: .seconds(5), what: "/readyz to pass") {
                try await client.execute(uri: "/readyz", method: .get).status == .ok
            }
            return accepted
        }
        // The restarted server has no persistence, so only what was accepted after the restart can be checked there.
        let afterRestart = Set(try harness.streamWebhookIds())
        #expect(afterRestart.count >= 21)
        #expect(afterRestart.isSubset(of: Set(accepted)))
        #expect(Set(accepted.suffix(21)).isSubset(of: afterRestart))
    }

    @Test func durableRedisKeepsEveryAcceptedWebhookAcrossARestart() async throws {
        let redis = try RedisServerProcess.start(appendOnly: true)
        defer { redis.stop() }
        let harness = try H("outage-aof", redisURL: redis.url)
        let accepted = try await harness.withLiveGateway { client in
            var accepted: [String] = []
            // Requests keep flowing from several tasks while Redis is stopped and restarted under them.
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var mine: [String] = []
                        let deadline = ContinuousClock.now + .seconds(4)
                        while ContinuousClock.now < deadline {
                            let id = H.uniqueId()
                            let response = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: id, body: H.validBody))
                            if response.status == .accepted {
                                mine.append(id)
                            } else {
                                #expect(response.status == .serviceUnavailable)
                                #expect(response.headers[.retryAfter] != nil)
                            }
                        }
                        return mine
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(1))
                    redis.stop()
                    try await Task.sleep(for: .seconds(1))
                    try redis.restart()
                    return []
                }
                for try await ids in group { accepted += ids }
            }
            return accepted
        }
        #expect(!accepted.isEmpty)
        let stored = Set(try harness.streamWebhookIds())
        // Clean shutdown flushes the AOF: nothing that got a 202 may be missing.
        #expect(Set(accepted).isSubset(of: stored))
    }

    @Test func aGatewayStartedWithoutRedisServes503AndComesReadyWhenRedisArrives() async throws {
        let redis = try RedisServerProcess.start()
        redis.stop()
        defer { redis.stop() }
        let harness = try H("outage-start", redisURL: redis.url)
        let started = ContinuousClock.now
        try await harness.withLiveGateway { client in
            // It listens even though Redis is down (after about the connect timeout), and says so.
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .serviceUnavailable)
            let refused = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody))
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] != nil)

            try redis.restart()
            try await waitUntil(timeout: .seconds(5), what: "/readyz to pass") {
                try await client.execute(uri: "/readyz", method: .get).status == .ok
            }
            let accepted = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody))
            #expect(accepted.status == .accepted)
        }
    }
}
