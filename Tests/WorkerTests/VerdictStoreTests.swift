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
        #expect(try await fixture.processedCount() == 2)
    }

    /// With the worker's session settings the statement runs one generic plan, and that plan uses the indexes even when
    /// it was made while the tables were empty (a sequential scan kept while processed_webhooks grows would be ruinous).
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
        #expect(try await fixture.processedCount() == 1_000)
        let plan = try await client.withConnection { connection -> (statements: [String], generic: Int, custom: Int, explain: String) in
            let rows = try connection.query("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements").rows
            let names = try rows.map { try $0.string("name") }
            let generic = try rows.reduce(0) { $0 + (try $1.int("generic_plans") ?? 0) }
            let custom = try rows.reduce(0) { $0 + (try $1.int("custom_plans") ?? 0) }
            guard let name = names.first else { return (names, generic, custom, "") }
            let explain = try connection.query(
                "EXPLAIN EXECUTE \(name)('{\"x\"}', '{\"doc-1\"}', '{\"a\"}', '{\"ACCEPTED\"}', '{1}')"
            ).rows.map { try $0.string("QUERY PLAN") }.joined(separator: "\n")
            return (names, generic, custom, explain)
        }
        #expect(plan.statements.count == 1)
        #expect(plan.generic == 10)
        #expect(plan.custom == 0)
        #expect(plan.explain.contains("processed_webhooks_pkey"), "\(plan.explain)")
        #expect(plan.explain.contains("document_reviews_document_id_key"), "\(plan.explain)")
        #expect(!plan.explain.contains("Seq Scan"), "\(plan.explain)")
    }

    @Test func olderVerdictIsRecordedButDoesNotOverwrite() async throws {
        let fixture = try WorkerFixture("store-order")
        try await fixture.seedDocuments(["d1"])
        #expect(try await apply(fixture, [record("new", "d1", .declined, ts: 200)]) == [.applied])
        #expect(try await apply(fixture, [record("old", "d1", .accepted, ts: 100)]) == [.stale])
        let d1 = try await fixture.document("d1")
        #expect(d1?.status == "DECLINED")
        #expect(d1?.lastEventTs == 200)
        #expect(try await fixture.processedCount() == 2)
        // Within one batch the newest wins whatever the order.
        try await fixture.seedDocuments(["d2"])
        #expect(try await apply(fixture, [record("b-new", "d2", .accepted, ts: 300), record("b-old", "d2", .declined, ts: 250)])
            == [.applied, .stale])
        #expect(try await fixture.document("d2")?.status == "ACCEPTED")
    }

    @Test func unknownDocumentLeavesNoTraceSoARetryCanApplyIt() async throws {
        let fixture = try WorkerFixture("store-unknown")
        #expect(try await apply(fixture, [record("w1", "later", .accepted, ts: 100)]) == [.unknownDocument])
        #expect(try await fixture.processedCount() == 0)
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
        #expect(try await fixture.processedCount() == 0)
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
        #expect(try results[0].get() == .applied)
        #expect(try results[2].get() == .applied)
        guard case .failure(let error) = results[1] else {
            Issue.record("the out-of-range event must fail")
            return
        }
        #expect(VerdictStore.isEventFault(error))
        #expect(try await fixture.document("d3")?.status == "DECLINED")
        #expect(try await fixture.document("d2")?.status == "PENDING_REVIEW")
        #expect(try await fixture.processedCount() == 2)
    }
}
