import Foundation
import Model
import Queue
import Redis
import TestSupport
import Testing

/// Issue 7, system test 3: events that can never be applied end in the dead stream with their reason after the
/// configured attempts, while the documents flowing around them are decided normally.
@Suite struct PoisonTests {
    @Test(.timeLimit(.minutes(3)))
    func poisonEventsAreDeadLetteredWithTheirReasonAndTheirNeighboursApplied() async throws {
        var settings = DocketSystem.Settings()
        settings.workerCount = 1
        settings.workerEnvironment = [
            "DOCKET_MAX_ATTEMPTS": "3", "DOCKET_RETRY_BASE_MS": "50", "DOCKET_RETRY_CAP_MS": "200",
        ]
        let system = try DocketSystem(
            name: "poison", redisURL: TestEnvironment.redisURL, databaseURL: try TestEnvironment.makeDatabase("system_poison"),
            settings: settings)
        try system.start()

        let neighbours = 40
        try system.submit(neighbours / 2, tag: "before")

        // A review the Help Desk refused for good: a verdict for it is a permanent failure (no retry helps).
        let failedDocument = "poison-failed-\(UUID().uuidString.lowercased())"
        try await system.postgres.query(
            """
            INSERT INTO document_reviews (document_url, document_status, document_id, last_error)
            VALUES ('https://docs.example.com/poison/failed.pdf', 'REQUEST_FAILED', $1, 'HTTP 422 from the Help Desk')
            """,
            [.text(failedDocument)])
        let permanentId = "msg_poison_permanent_\(UUID().uuidString.lowercased())"
        #expect(try system.postVerdict(webhookId: permanentId, documentId: failedDocument) == 202)

        // A verdict for a document nobody ever submitted: retryable (it could be a race with the scheduler), so it
        // is tried DOCKET_MAX_ATTEMPTS = 3 times with backoff, then dead-lettered.
        let unknownId = "msg_poison_unknown_\(UUID().uuidString.lowercased())"
        #expect(try system.postVerdict(webhookId: unknownId, documentId: "poison-never-submitted") == 202)

        // An entry the gateway would never have enqueued (its body is not a verdict), written straight to the stream.
        let malformedId = "msg_poison_malformed_\(UUID().uuidString.lowercased())"
        let now = Int(Date().timeIntervalSince1970)
        let envelope = EventEnvelope(
            webhookId: malformedId, timestamp: now, receivedAt: now * 1000, body: Array(#"{"documentId": 42}"#.utf8))
        let queue = EventQueue(prefix: system.prefix)
        let outcome = try await system.redis.withConnection { connection in
            try queue.enqueue(envelope, dedupeTTLSeconds: 60, maxBacklog: 1_000_000, on: connection)
        }
        guard case .accepted = outcome else {
            Issue.record("the malformed entry was not enqueued: \(outcome)")
            return
        }

        try system.submit(neighbours / 2, tag: "after")
        try await system.waitUntilSettled(count: neighbours, timeout: .seconds(120))

        // The neighbours: every submitted document decided as the sim decided, one processed row each.
        let reviews = try system.simReviews()
        #expect(reviews.count == neighbours)
        let decided = try await system.statusCounts()
        #expect((decided["ACCEPTED"] ?? 0) + (decided["DECLINED"] ?? 0) == neighbours, "\(decided)\n\(system.logs())")
        #expect(decided["REQUEST_FAILED"] == 1)
        let rows = try await system.postgres.query(
            "SELECT d.document_id, d.document_status FROM document_reviews d WHERE d.document_id IS NOT NULL").rows
        var status: [String: String] = [:]
        for row in rows { status[try row.string("document_id")] = row["document_status"] }
        let wrong = reviews.filter { status[$0.documentId] != $0.documentStatus }
        #expect(wrong.isEmpty, "\(wrong.count) neighbours differ from the sim's verdicts")
        #expect(status[failedDocument] == "REQUEST_FAILED", "a dead-lettered verdict changed nothing")

        // The poison: three dead letters, each with its reason and the attempts it was given.
        let dead = try system.deadLetters()
        #expect(dead.count == 3, "dead letters: \(dead)\n\(system.logs())")
        let byWebhook = Dictionary(dead.compactMap { entry in (entry["webhookId"] as? String).map { ($0, entry) } }) { first, _ in first }

        let unknown = try #require(byWebhook[unknownId], "the unknown-document verdict was dead-lettered")
        #expect((unknown["error"] as? String)?.contains("unknown document") == true, "\(unknown)")
        #expect(unknown["attempts"] as? Int == 3, "retried up to DOCKET_MAX_ATTEMPTS: \(unknown)")

        let permanent = try #require(byWebhook[permanentId], "the REQUEST_FAILED verdict was dead-lettered")
        #expect((permanent["error"] as? String)?.contains("REQUEST_FAILED") == true, "\(permanent)")
        #expect(permanent["attempts"] as? Int == 1, "a permanent failure is not retried: \(permanent)")

        let malformed = try #require(byWebhook[malformedId], "the malformed entry was dead-lettered")
        #expect((malformed["error"] as? String)?.contains("invalid body") == true, "\(malformed)")
        #expect(malformed["attempts"] as? Int == 1, "\(malformed)")

        // None of the poison took effect (no audit row): a replay after a fix could still apply it.
        let processed = try await system.postgres.query(
            "SELECT count(*) AS n FROM webhook_log WHERE webhook_id = ANY($1::text[])",
            [.textArray([unknownId, permanentId, malformedId])])
        #expect(try processed.rows.first?.int("n") == 0)
        let total = try await system.postgres.query("SELECT count(*) AS n FROM webhook_log")
        #expect(try total.rows.first?.int("n") == neighbours)
    }
}
