import Foundation
import Redis
import TestSupport
import Testing

/// Found by the fault run (issue 7): a worker that could not reach Postgres used to back off and re-read its own pending
/// entries with XREADGROUP 0, and every re-read raised the entry's delivery count. When that worker then died, the worker
/// that reclaimed its entries took them for poison (more than DOCKET_MAX_DELIVERIES deliveries) and dead-lettered good
/// events, although an outage must dead-letter nothing (docs/architecture.md, "The guarantees and where each is
/// kept"). The worker now retries the batch in hand instead.
@Suite struct RedeliveryTests {
    @Test(.timeLimit(.minutes(3)))
    func eventsReReadDuringAnOutageAreNotPoisonAfterTheirWorkerDies() async throws {
        let postgresServer = try PostgresServerProcess.start()
        defer { postgresServer.stop() }
        var settings = DocketSystem.Settings()
        settings.workerEnvironment = ["DOCKET_VISIBILITY_TIMEOUT_MS": "1000", "DOCKET_MAX_DELIVERIES": "5"]
        let system = try DocketSystem(
            name: "redelivery", redisURL: TestEnvironment.redisURL,
            databaseURL: try postgresServer.makeDatabase("system_redelivery"), settings: settings)
        defer { system.stopAll() }

        // Three reviews waiting for their verdicts.
        let documents = (1...3).map { "redelivery-doc-\($0)-\(UUID().uuidString.lowercased())" }
        for (index, document) in documents.enumerated() {
            try await system.postgres.query(
                """
                INSERT INTO document_reviews (document_url, document_status, document_id, agent_id)
                VALUES ($1, 'PENDING_REVIEW', $2, 'agent-redelivery')
                """,
                [.text("https://docs.example.com/redelivery/\(index).pdf"), .text(document)])
        }
        try system.startGateway()
        try system.startWorker(consumer: "redelivery-worker-1")

        // Postgres goes away; the verdicts arrive and the worker holds them, backing off and retrying.
        postgresServer.stop()
        for document in documents {
            #expect(try system.postVerdict(webhookId: "msg_\(UUID().uuidString.lowercased())", documentId: document) == 202)
        }
        let events = RedisArgument("{\(system.prefix)}:events")
        let worker = try #require(system.workers["redelivery-worker-1"]?.process)
        // Long enough an outage that re-reading would have passed DOCKET_MAX_DELIVERIES: six failed attempts.
        try waitUntil(timeout: .seconds(60), poll: .milliseconds(100), what: "six failed attempts at the batch") {
            worker.output.components(separatedBy: "backing off").count - 1 >= 6
        }
        let pending = try await system.redis.send("XPENDING", events, "workers", "-", "+", "10").array ?? []
        let deliveries = pending.compactMap { $0.array?.last?.int }
        // The worker read what had arrived when it first tried (it reads nothing new while it holds a batch).
        #expect(!deliveries.isEmpty)
        #expect(deliveries.allSatisfy { $0 == 1 }, "the batch in hand is retried, not read again: \(deliveries)")

        // The worker dies holding them; Postgres comes back; another worker reclaims them after the visibility timeout.
        system.killWorker("redelivery-worker-1")
        try postgresServer.restart()
        try system.startWorker(consumer: "redelivery-worker-2")
        try await waitUntil(timeout: .seconds(60), poll: .milliseconds(100), what: "the reclaimed events to settle") {
            let queue = try await system.queueLengths()
            return queue.events == 0 && queue.retry == 0
        }

        // Our own client lost its connection in the restart; it reconnects on the next call.
        var counts: [String: Int] = [:]
        try await waitUntil(timeout: .seconds(10), what: "Postgres to answer again") {
            counts = (try? await system.statusCounts()) ?? [:]
            return !counts.isEmpty
        }
        let dead = try system.deadLetters()
        #expect(counts["ACCEPTED"] == documents.count, "verdicts applied: \(counts)")
        #expect(dead.isEmpty, "dead letters: \(dead.map { $0["error"] ?? "" })")
    }
}
