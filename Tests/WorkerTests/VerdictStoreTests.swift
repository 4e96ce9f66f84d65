import Foundation
import Model
import Postgres
import Store
import Testing
import TestSupport

/// The set-based apply against a real Postgres (each test its own database).
@Suite struct VerdictStoreTests {
    func record(_ webhookId: String, _ documentId: String, _ status: Verdict, ts: Int, agent: String = "agent-1") -> VerdictRecord {
        VerdictRecord(webhookId: webhookId, timestamp: ts, verdict: ReviewVerdict(agentId: agent, documentId: documentId, documentStatus: status))
    }

    func apply(_ fixture: WorkerFixture, _ records: [VerdictRecord]) async throws -> [VerdictOutcome] {
        try await fixture.postgres.withConnection { connection in try VerdictStore().apply(records, on: connection) }
    }

    @Test func appliesRecordsAndIgnoresRedeliveries() async throws {
        let fixture = try WorkerFixture("store-apply")
        try await fixture.seedDocuments(["d1", "d2"])
        let first = try await apply(fixture, [record("w1", "d1", .accepted, ts: 100), record("w2", "d2", .declined, ts: 100, agent: "a2")])
        #expect(first == [.applied, .applied])
        let d2 = try await fixture.document("d2")
        #expect(d2?.status == "DECLINED")
        #expect(d2?.agent == "a2")
        #expect(d2?.lastEventTs == 100)
        // The same webhook id again, even with another verdict, changes nothing.
        #expect(try await apply(fixture, [record("w1", "d1", .declined, ts: 200)]) == [.duplicate])
        #expect(try await fixture.document("d1")?.status == "ACCEPTED")
        #expect(try await fixture.document("d1")?.lastWebhookId == "w1")
        // One audit row per applied verdict, carrying what was applied.
        #expect(try await fixture.auditCount() == 2)
        let audit = try await fixture.postgres.query(
            "SELECT webhook_id, document_id, verdict, agent_id, event_ts FROM webhook_log ORDER BY webhook_id").rows
        #expect(audit.map { "\($0["webhook_id"] ?? "") \($0["document_id"] ?? "") \($0["verdict"] ?? "") \($0["agent_id"] ?? "") \($0["event_ts"] ?? "")" }
            == ["w1 d1 ACCEPTED agent-1 100", "w2 d2 DECLINED a2 100"])
    }

    /// With the worker's session settings the statement runs one generic plan, and that plan uses the indexes even when
    /// it was made while the table was small (a sequential scan kept while document_reviews grows would be ruinous).
    @Test func workerSessionsRunOneGenericIndexPlan() async throws {
        let fixture = try WorkerFixture("store-plan")
        let client = PostgresClient(url: fixture.databaseURL, sessionSettings: VerdictStore.sessionSettings)
        defer { client.shutdown() }
        let ids = WorkerFixture.documentIds(1_000)
        try await fixture.seedDocuments(ids)
        for batch in 0..<10 {
            let records = (0..<100).map { record("plan-\(batch)-\($0)", ids[batch * 100 + $0], .accepted, ts: 100) }
            let outcomes = try await client.withConnection { connection in try VerdictStore().apply(records, on: connection) }
            #expect(outcomes == [VerdictOutcome](repeating: .applied, count: 100))
        }
        #expect(try await fixture.auditCount() == 1_000)
        let plan = try await client.withConnection { connection -> (statements: [String], generic: Int, custom: Int, explain: String) in
            let rows = try connection.query("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements").rows
            let names = try rows.map { try $0.string("name") }
            let generic = try rows.reduce(0) { $0 + (try $1.int("generic_plans") ?? 0) }
            let custom = try rows.reduce(0) { $0 + (try $1.int("custom_plans") ?? 0) }
            guard let name = names.first else { return (names, generic, custom, "") }
            let explain = try connection.query(
                "EXPLAIN EXECUTE \(name)('{\"x\"}', '{\"doc-1\"}', '{\"a\"}', '{\"ACCEPTED\"}', '{1}', true)"
            ).rows.map { try $0.string("QUERY PLAN") }.joined(separator: "\n")
            return (names, generic, custom, explain)
        }
        #expect(plan.statements.count == 1)
        #expect(plan.generic == 10)
        #expect(plan.custom == 0)
        #expect(plan.explain.contains("Insert on webhook_log"), "\(plan.explain)")
        #expect(plan.explain.contains("document_reviews_document_id_key"), "\(plan.explain)")
        #expect(!plan.explain.contains("Seq Scan"), "\(plan.explain)")
    }

    @Test func olderVerdictIsStaleAndWritesNothing() async throws {
        let fixture = try WorkerFixture("store-order")
        try await fixture.seedDocuments(["d1"])
        #expect(try await apply(fixture, [record("new", "d1", .declined, ts: 200)]) == [.applied])
        #expect(try await apply(fixture, [record("old", "d1", .accepted, ts: 100)]) == [.stale])
        let d1 = try await fixture.document("d1")
        #expect(d1?.status == "DECLINED")
        #expect(d1?.lastEventTs == 200)
        #expect(try await fixture.auditCount() == 1)
        // Within one batch the newest wins whatever the order.
        try await fixture.seedDocuments(["d2"])
        #expect(try await apply(fixture, [record("b-new", "d2", .accepted, ts: 300), record("b-old", "d2", .declined, ts: 250)])
            == [.applied, .stale])
        #expect(try await fixture.document("d2")?.status == "ACCEPTED")
    }

    @Test func unknownDocumentLeavesNoTraceSoARetryCanApplyIt() async throws {
        let fixture = try WorkerFixture("store-unknown")
        #expect(try await apply(fixture, [record("w1", "later", .accepted, ts: 100)]) == [.unknownDocument])
        #expect(try await fixture.auditCount() == 0)
        try await fixture.seedDocuments(["later"])
        #expect(try await apply(fixture, [record("w1", "later", .accepted, ts: 100)]) == [.applied])
    }

    @Test func documentsThatCannotTakeAVerdictAreReported() async throws {
        let fixture = try WorkerFixture("store-state")
        try await fixture.postgres.query(
            """
            INSERT INTO document_reviews (document_url, document_status, document_id)
            VALUES ('https://x/1', 'REQUEST_FAILED', 'failed'), ('https://x/2', 'QUEUED', 'queued')
            """)
        let outcomes = try await apply(fixture, [record("w1", "failed", .accepted, ts: 1), record("w2", "queued", .accepted, ts: 1)])
        #expect(outcomes == [.wrongState("REQUEST_FAILED"), .wrongState("QUEUED")])
        #expect(try await fixture.auditCount() == 0)
        #expect(try await fixture.document("failed")?.status == "REQUEST_FAILED")
    }

    @Test func repeatedWebhookIdInOneBatchAppliesOnce() async throws {
        let fixture = try WorkerFixture("store-repeat")
        try await fixture.seedDocuments(["d1"])
        let outcomes = try await apply(fixture, [record("w1", "d1", .accepted, ts: 100), record("w1", "d1", .declined, ts: 200)])
        #expect(outcomes == [.applied, .duplicate])
        #expect(try await fixture.document("d1")?.status == "ACCEPTED")
    }

    @Test func mixedBatchInOneStatement() async throws {
        let fixture = try WorkerFixture("store-mixed")
        try await fixture.seedDocuments(["a", "b"])
        _ = try await apply(fixture, [record("seen", "a", .accepted, ts: 500)])
        let outcomes = try await apply(fixture, [
            record("seen", "a", .declined, ts: 900), record("x", "missing", .accepted, ts: 1),
            record("y", "b", .declined, ts: 2), record("z", "a", .declined, ts: 400),
        ])
        #expect(outcomes == [.duplicate, .unknownDocument, .applied, .stale])
    }

    @Test func dataErrorFallsBackToOneEventAtATimeSoNeighboursCommit() async throws {
        let fixture = try WorkerFixture("store-fallback")
        try await fixture.seedDocuments(["d1", "d2", "d3"])
        // A webhook-timestamp to_timestamp() cannot represent fails the whole statement (SQLSTATE 22008).
        let records = [record("w1", "d1", .accepted, ts: 100), record("w2", "d2", .accepted, ts: Int.max / 2),
                       record("w3", "d3", .declined, ts: 100)]
        let results = try await fixture.postgres.withConnection { connection in
            try VerdictStore().applyIsolatingFailures(records, on: connection)
        }
        #expect(results[0] == .applied)
        #expect(results[2] == .applied)
        guard case .rejected(let reason) = results[1] else {
            Issue.record("the out-of-range event must be rejected, got \(results[1])")
            return
        }
        #expect(reason.hasPrefix("22008 "), "\(reason)")
        #expect(try await fixture.document("d3")?.status == "DECLINED")
        #expect(try await fixture.document("d2")?.status == "PENDING_REVIEW")
        #expect(try await fixture.auditCount() == 2)
    }

    /// Equal timestamps are ordered by webhook id, so the winner does not depend on batching or arrival order; a
    /// webhook re-signed with a later timestamp is still a redelivery of the one that decided the document.
    @Test func timestampTiesGoToTheHigherWebhookIdAndResignedRedeliveriesAreDuplicates() async throws {
        let fixture = try WorkerFixture("store-ties")
        try await fixture.seedDocuments(["d1", "d2"])
        // d1: the higher id first, then the lower one in a later batch.
        #expect(try await apply(fixture, [record("msg_b", "d1", .declined, ts: 100)]) == [.applied])
        #expect(try await apply(fixture, [record("msg_a", "d1", .accepted, ts: 100)]) == [.stale])
        // d2: the lower id first; the higher one in a later batch overtakes it.
        #expect(try await apply(fixture, [record("msg_a", "d2", .accepted, ts: 100)]) == [.applied])
        #expect(try await apply(fixture, [record("msg_b", "d2", .declined, ts: 100)]) == [.applied])
        #expect(try await fixture.document("d1")?.status == "DECLINED")
        #expect(try await fixture.document("d2")?.status == "DECLINED")
        #expect(try await fixture.document("d2")?.lastWebhookId == "msg_b")
        // The deciding webhook again, re-signed an hour later: a redelivery, not a new verdict.
        #expect(try await apply(fixture, [record("msg_b", "d2", .accepted, ts: 3_700)]) == [.duplicate])
        #expect(try await fixture.document("d2")?.status == "DECLINED")
        #expect(try await fixture.document("d2")?.lastEventTs == 100)
    }

    /// A document decided before migration 3 has a timestamp and no webhook id: only a strictly newer timestamp
    /// overwrites it, as the rule was then, so a redelivery of the webhook that decided it changes nothing.
    @Test func documentsDecidedBeforeTheMigrationKeepTheStrictlyNewerRule() async throws {
        let fixture = try WorkerFixture("store-premigration")
        try await fixture.seedDocuments(["old"])
        try await fixture.postgres.query(
            "UPDATE document_reviews SET document_status = 'ACCEPTED', last_event_ts = 100, last_webhook_id = NULL WHERE document_id = 'old'")
        #expect(try await apply(fixture, [record("zzz", "old", .declined, ts: 100)]) == [.stale])
        #expect(try await fixture.document("old")?.status == "ACCEPTED")
        #expect(try await apply(fixture, [record("aaa", "old", .declined, ts: 101)]) == [.applied])
        #expect(try await fixture.document("old")?.status == "DECLINED")
    }

    @Test func withTheAuditTrailOffNothingIsLogged() async throws {
        let fixture = try WorkerFixture("store-audit-off")
        try await fixture.seedDocuments(["d1"])
        let outcomes = try await fixture.postgres.withConnection { connection in
            try VerdictStore(recordsAudit: false).apply([VerdictRecord(
                webhookId: "w1", timestamp: 1, verdict: ReviewVerdict(agentId: "a", documentId: "d1", documentStatus: .accepted))],
                on: connection)
        }
        #expect(outcomes == [.applied])
        #expect(try await fixture.auditCount() == 0)
    }

    /// With no partition for today (upkeep behind), applying fails as the infrastructure's fault: the worker backs off
    /// and keeps the events instead of dead-lettering them, and nothing of the batch commits.
    @Test func aMissingAuditPartitionIsAnInfrastructureFailureNotTheEvents() async throws {
        let fixture = try WorkerFixture("store-no-partition")
        try await fixture.seedDocuments(["d1", "d2"])
        let partitions = try await fixture.postgres.withConnection { connection in try AuditLog().partitions(on: connection) }
        for partition in partitions {
            try await fixture.postgres.query("ALTER TABLE webhook_log DETACH PARTITION \"\(partition.name)\"")
        }
        let error = await #expect(throws: StoreUnavailable.self) {
            try await fixture.postgres.withConnection { connection in
                try VerdictStore().applyIsolatingFailures(
                    [self.record("w1", "d1", .accepted, ts: 1), self.record("w2", "d2", .accepted, ts: 1)], on: connection)
            }
        }
        #expect(error?.description.contains("no partition of relation \"webhook_log\"") == true, "\(String(describing: error))")
        #expect(try await fixture.document("d1")?.status == "PENDING_REVIEW")
        // Upkeep makes today's partition again and the same batch applies.
        let report = try await fixture.postgres.withConnection { connection in
            try AuditLog().upkeep(retention: nil, now: Date(), on: connection)
        }
        #expect(report.created.count == 3)
        #expect(try await apply(fixture, [record("w1", "d1", .accepted, ts: 1)]) == [.applied])
    }
}
