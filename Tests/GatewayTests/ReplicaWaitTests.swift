import Foundation
import NIOCore
import Queue
import StandardWebhooks
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// DOCKET_REDIS_MIN_REPLICAS against a real primary and replica (docs/reference.md §4, "What a 202 means"): 202 once
/// the replica holds the write; with the replica gone, every webhook gets 503 `replicas-unavailable` within about the
/// replica timeout — a burst included, since one WAIT at a time goes out per connection and answers everyone who
/// waits, so unsatisfiable WAITs never stack up past the link's reply timeout — and the link stays up (`/readyz`).
@Suite struct ReplicaWaitTests {
    typealias H = GatewayHarness

    static func attach(_ replica: RedisServerProcess, to primary: RedisServerProcess) throws {
        #expect(replica.cli(["REPLICAOF", "127.0.0.1", "\(primary.port)"]).contains("OK"))
        try waitUntil(timeout: .seconds(20), what: "the replica in sync") {
            replica.cli(["INFO", "replication"]).contains("master_link_status:up")
        }
    }

    /// Posts `count` webhooks at once (a thread and a connection each); the answers' statuses and bodies.
    static func burst(port: Int, count: Int) throws -> [(status: Int, body: String)] {
        let signer = WebhookSigner(secret: try WebhookSecret(H.secretText))
        let body = Array(H.validBody.utf8)
        let answers = Mutex<[(status: Int, body: String)]>([])
        let done = DispatchGroup()
        for _ in 0..<count {
            done.enter()
            Thread.detachNewThread {
                let headers = [(name: "Content-Type", value: "application/json")]
                    + signer.headers(id: H.uniqueId("msg_replica"), timestamp: Int(Date().timeIntervalSince1970), body: body)
                let reply = try? LoopbackHTTPClient.exchange(port: port, method: "POST", path: "/document/update", headers: headers, body: body)
                answers.withLock { $0.append((reply?.status ?? 0, reply?.body ?? "no answer")) }
                done.leave()
            }
        }
        done.wait()
        return answers.withLock { $0 }
    }

    /// `docket_gateway_requests_total{outcome="redis_unavailable"}` from the gateway's /metrics.
    static func redisUnavailable(port: Int) throws -> Double {
        let metrics = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/metrics").body
        let line = metrics.split(separator: "\n").first { line in
            line.hasPrefix(#"docket_gateway_requests_total{outcome="redis_unavailable"}"#)
        }
        return line.flatMap { line in line.split(separator: " ").last }.flatMap { Double($0) } ?? 0
    }

    @Test(.timeLimit(.minutes(2)))
    func aMissingReplicaIs503ReplicasUnavailableWithoutBreakingTheLink() async throws {
        let primary = try RedisServerProcess.start()
        let replica = try RedisServerProcess.start()
        defer {
            replica.stop()
            primary.stop()
        }
        try Self.attach(replica, to: primary)
        let harness = try H("replicas", redisURL: primary.url) { configuration in
            configuration.replicaWait = ReplicaWait(replicas: 1, timeoutMilliseconds: 300)
        }
        try await harness.withLiveGateway { client in
            let port = try #require(client.port)
            // With the replica: every webhook 202.
            let accepted = try Self.burst(port: port, count: 40)
            let notAccepted = accepted.filter { answer in answer.status != 202 }
            #expect(notAccepted.isEmpty, "\(notAccepted.prefix(3))")

            // Without it: 503 replicas-unavailable for a whole burst, quickly, and the link never drops.
            replica.kill9()
            try waitUntil(timeout: .seconds(10), what: "the primary to see no replica") {
                primary.cli(["INFO", "replication"]).contains("connected_slaves:0")
            }
            // The metrics registry is the test process's, shared with other gateways: compare before and after.
            let unavailableBefore = try Self.redisUnavailable(port: port)
            let started = ContinuousClock.now
            let refused = try Self.burst(port: port, count: 30)
            let elapsed = ContinuousClock.now - started
            let notRefused = refused.filter { answer in answer.status != 503 || !answer.body.contains("replicas-unavailable") }
            #expect(notRefused.isEmpty, "\(notRefused.prefix(3))")
            #expect(elapsed < .seconds(3), "a burst of 30 took \(elapsed): replica waits stacked up")
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            let unavailableAfter = try Self.redisUnavailable(port: port)
            #expect(unavailableAfter == unavailableBefore, "the link failed during the burst: \(unavailableAfter - unavailableBefore) answers")

            // The replica back: 202 again.
            try replica.start()
            try Self.attach(replica, to: primary)
            let again = try Self.burst(port: port, count: 20)
            #expect(again.allSatisfy { answer in answer.status == 202 })
        }
    }
}
