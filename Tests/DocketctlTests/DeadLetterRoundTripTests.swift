import Foundation
import Model
import Postgres
import Queue
import Redis
import Store
import TestSupport
import Testing

/// The operator's round trip with a real `docket-worker`: verdicts for documents not known yet are dead-lettered,
/// `dead list` shows them, the documents appear, `dead replay` (one by id, then --all) gets them applied.
@Suite struct DeadLetterRoundTripTests {
    @Test func deadLettersAreListedReplayedAndApplied() async throws {
        let prefix = TestEnvironment.uniquePrefix("ctl-rt")
        let databaseURL = try TestEnvironment.makeDatabase("ctl_rt")
        let postgres = try PostgresConnection(url: databaseURL)
        _ = try Migrator().migrate(postgres)
        let redis = try RedisConnection(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        let queue = EventQueue(prefix: prefix)
        let environment = [
            "DOCKET_REDIS_URL": TestEnvironment.redisURL, "DOCKET_DATABASE_URL": databaseURL, "DOCKET_REDIS_PREFIX": prefix,
        ]
        let worker = try ChildProcess.launch(product: "docket-worker", arguments: ["--consumer", "rt-worker"], environment: environment.merging([
            "DOCKET_METRICS_PORT": "0", "DOCKET_MAX_ATTEMPTS": "2", "DOCKET_RETRY_BASE_MS": "20", "DOCKET_RETRY_CAP_MS": "50",
        ]) { _, new in new })
        defer { worker.terminate() }

        let documents = (0..<3).map { "rt-doc-\($0)" }
        for (i, document) in documents.enumerated() {
            let body = #"{"agentId":"agent-\#(i)","documentId":"\#(document)","documentStatus":"\#(i == 0 ? "DECLINED" : "ACCEPTED")"}"#
            let envelope = EventEnvelope(webhookId: "rt-\(i)", timestamp: 1_700_000_000 + i, receivedAt: 1_700_000_000_000,
                                         body: Array(body.utf8))
            _ = try queue.enqueue(envelope, dedupeTTLSeconds: 60, maxBacklog: 1000, on: redis)
        }
        // Unknown documents are retried, then dead-lettered once the attempts run out.
        try waitUntil(timeout: .seconds(30), what: "three dead letters") {
            (try redis.send("XLEN", RedisArgument(queue.keys.dead)).int ?? 0) == 3
        }
        let list = try ChildProcess.run(product: "docketctl", arguments: ["dead", "list", "--json"], environment: environment)
        #expect(list.status == 0)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(Set(items.compactMap { $0["webhookId"] as? String }) == ["rt-0", "rt-1", "rt-2"])
        #expect(items.allSatisfy { ($0["attempts"] as? Int) == 2 })

        // The scheduler's commit lands: the documents now exist.
        try postgres.query(
            """
            INSERT INTO document_reviews (document_url, document_status, document_id)
            SELECT 'https://docs.example/' || d, 'PENDING_REVIEW', d FROM unnest($1::text[]) AS d
            """, [.textArray(documents.map { Optional($0) })])

        let first = try #require(items.first { $0["webhookId"] as? String == "rt-0" }?["id"] as? String)
        let one = try ChildProcess.run(product: "docketctl", arguments: ["dead", "replay", first], environment: environment)
        #expect(one.status == 0)
        try waitUntil(timeout: .seconds(20), what: "rt-doc-0 declined") {
            try postgres.query("SELECT document_status FROM document_reviews WHERE document_id = 'rt-doc-0'").rows.first?["document_status"] == "DECLINED"
        }
        let rest = try ChildProcess.run(product: "docketctl", arguments: ["dead", "replay", "--all"], environment: environment)
        #expect(rest.status == 0)
        #expect(rest.stdout.contains("replayed 2 dead letter(s)"))
        try waitUntil(timeout: .seconds(20), what: "every verdict applied") {
            let rows = try postgres.query("SELECT document_id, document_status, agent_id FROM document_reviews ORDER BY document_id").rows
            return rows.map { $0["document_status"] } == ["DECLINED", "ACCEPTED", "ACCEPTED"]
                && rows.map { $0["agent_id"] } == ["agent-0", "agent-1", "agent-2"]
        }
        #expect(try redis.send("XLEN", RedisArgument(queue.keys.dead)).int == 0)
        #expect(try postgres.query("SELECT count(*) AS n FROM webhook_log").rows.first?["n"] == "3")
        let stats = try ChildProcess.run(product: "docketctl", arguments: ["stats", "--json"], environment: environment)
        #expect(stats.status == 0, "\(stats.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(Set(report.keys) == ["backlog", "pending", "retrying", "dead", "reviews", "oldestPendingReviewSeconds", "audit"])
        let audit = try #require(report["audit"] as? [String: Any])
        #expect(audit["partitions"] as? Int == 4, "the migration's partitions: before today, today and two ahead: \(audit)")
        #expect((audit["bytes"] as? Int ?? 0) > 0, "\(audit)")
        #expect(audit["oldest"] is String, "three verdicts applied, so the trail has an oldest entry: \(audit)")
        #expect(report["dead"] as? Int == 0)
        let reviews = try #require(report["reviews"] as? [String: Int])
        #expect(reviews["ACCEPTED"] == 2)
        #expect(reviews["DECLINED"] == 1)
        #expect(reviews["QUEUED"] == 0)
    }
}
