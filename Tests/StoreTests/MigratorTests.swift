import Foundation
import Model
import Postgres
import Store
import TestSupport
import Testing

@Suite("Migrator")
struct MigratorTests {
    @Test func freshDatabaseGetsTheWholeSchema() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("store-migrate"))
        #expect(try Migrator().migrate(connection) == Array(1...Migrator.latestVersion))
        try Self.expectSchema(connection)

        // Defaults and the status check behave as the contract says.
        let row = try #require(try connection.query(
            "INSERT INTO document_reviews (document_url) VALUES ($1) RETURNING *", ["https://example.com/a.pdf"]
        ).rows.first)
        #expect(row["document_status"] == "QUEUED")
        #expect(try row.int("request_attempts") == 0)
        #expect(try row.date("created_at") != nil)
        #expect(try row.date("updated_at") != nil)
        #expect(row.isNull("next_request_at"))
        let badStatus = try #require(throws: PostgresError.self) {
            try connection.query("INSERT INTO document_reviews (document_url, document_status) VALUES ('u', 'BOGUS')")
        }
        #expect(badStatus.sqlState == "23514")
        try connection.query("UPDATE document_reviews SET document_id = 'doc-1'")
        let duplicate = try #require(throws: PostgresError.self) {
            try connection.query("INSERT INTO document_reviews (document_url, document_id) VALUES ('u', 'doc-1')")
        }
        #expect(duplicate.sqlState == "23505")
        // The audit trail takes rows for today; a row with no partition fails as AuditLog recognises.
        try connection.query("INSERT INTO webhook_log (applied_at, webhook_id, document_id) VALUES (now(), 'msg_1', 'doc-1')")
        let noPartition = try #require(throws: PostgresError.self) {
            try connection.query("INSERT INTO webhook_log (applied_at, webhook_id) VALUES (now() + interval '30 days', 'msg_2')")
        }
        #expect(AuditLog.isMissingPartition(noPartition), "\(noPartition)")
    }

    @Test func secondRunIsANoOp() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("store-rerun"))
        #expect(try Migrator().migrate(connection).isEmpty == false)
        #expect(try Migrator().migrate(connection) == [])
        #expect(try Migrator().migrate(connection) == [])
        let versions = try connection.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { try $0.int("version") }
        #expect(versions == Array(1...Migrator.latestVersion))
        try Self.expectSchema(connection)
    }

    /// What migration 3 added, taken away again (its `schema_migrations` row is the caller's to delete).
    static let undoVersion3 = """
        DROP TABLE webhook_log;
        DROP TRIGGER document_reviews_forget_stale_webhook_id ON document_reviews;
        DROP FUNCTION docket_forget_stale_webhook_id();
        ALTER TABLE document_reviews DROP COLUMN last_webhook_id;
        """

    @Test func aVersionOneDatabaseWithReviewsIsUpgraded() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("store-upgrade"))
        _ = try Migrator().migrate(connection)
        // Put the database back to what version 1 left, with reviews in it.
        try connection.execute(
            """
            DELETE FROM schema_migrations WHERE version >= 2;
            \(Self.undoVersion3)
            DROP INDEX document_reviews_pending_updated_idx;
            CREATE INDEX document_reviews_status_updated_idx ON document_reviews (document_status, updated_at);
            INSERT INTO document_reviews (document_url, document_status, document_id)
                SELECT 'https://docs.example/' || g, 'PENDING_REVIEW', 'up-' || g FROM generate_series(1, 500) g;
            """)
        #expect(try Migrator().migrate(connection) == Array(2...Migrator.latestVersion))
        try Self.expectSchema(connection)
        #expect(try connection.query("SELECT count(*) AS n FROM document_reviews").rows.first?.int("n") == 500)
        // The stale-review count is answered from the new partial index.
        try connection.execute("SET enable_seqscan = off")
        let plan = try connection.query(
            "EXPLAIN SELECT count(*) FROM document_reviews WHERE document_status = 'PENDING_REVIEW' AND updated_at < now()"
        ).rows.map { $0["QUERY PLAN"] ?? "" }.joined(separator: "\n")
        #expect(plan.contains("document_reviews_pending_updated_idx"), "\(plan)")
    }

    /// Version 2 kept every processed webhook id forever; version 3 carries them into the audit trail (the table stays
    /// for workers of version 2 during a rolling upgrade), and documents decided before it go on taking newer verdicts
    /// and ignoring redeliveries.
    @Test func aVersionTwoDatabaseWithProcessedWebhooksIsUpgraded() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("store-upgrade-v3"))
        _ = try Migrator().migrate(connection)
        try connection.execute(
            """
            DELETE FROM schema_migrations WHERE version >= 3;
            \(Self.undoVersion3)
            INSERT INTO document_reviews (document_url, document_status, document_id, agent_id, last_event_ts)
                SELECT 'https://docs.example/' || g, 'ACCEPTED', 'v2-' || g, 'agent', 100 FROM generate_series(1, 300) g;
            INSERT INTO processed_webhooks (webhook_id, document_id, applied_at)
                SELECT 'msg_v2_' || g, 'v2-' || g, now() - g * interval '1 hour' FROM generate_series(1, 300) g;
            """)
        #expect(try Migrator().migrate(connection) == [3])
        try Self.expectSchema(connection)
        let carried = try connection.query(
            "SELECT count(*) AS n, min(applied_at) AS oldest, count(verdict) AS verdicts FROM webhook_log WHERE webhook_id LIKE 'msg_v2_%'"
        ).rows.first
        #expect(try carried?.int("n") == 300)
        #expect(try carried?.int("verdicts") == 0, "version 2 never recorded the verdict")
        let oldest = try #require(try carried?.date("oldest"))
        #expect(abs(oldest.timeIntervalSinceNow + 300 * 3600) < 120, "applied_at carried over: \(oldest)")
        // Carried-over rows older than today sit in the migration's "before" partition, which retention drops whole.
        let partitions = try AuditLog().partitions(on: connection).map(\.name)
        #expect(partitions.count == 4)
        #expect(partitions.first?.hasPrefix("webhook_log_before_") == true, "\(partitions)")

        // A document decided under version 2: a redelivery at its timestamp changes nothing, a newer verdict applies.
        let redelivery = VerdictRecord(
            webhookId: "msg_v2_1", timestamp: 100, verdict: ReviewVerdict(agentId: "x", documentId: "v2-1", documentStatus: .declined))
        let newer = VerdictRecord(
            webhookId: "msg_new", timestamp: 101, verdict: ReviewVerdict(agentId: "y", documentId: "v2-2", documentStatus: .declined))
        #expect(try VerdictStore().apply([redelivery, newer], on: connection) == [.stale, .applied])
        let statuses = try connection.query(
            "SELECT document_id, document_status FROM document_reviews WHERE document_id IN ('v2-1', 'v2-2') ORDER BY document_id"
        ).rows.map { $0["document_status"] ?? "" }
        #expect(statuses == ["ACCEPTED", "DECLINED"])

        // A worker of version 2 during a rolling upgrade moves last_event_ts and leaves last_webhook_id alone: the id
        // is forgotten, so a redelivery of the webhook it applied (same timestamp, another id) is not taken as newer.
        try connection.query(
            "UPDATE document_reviews SET document_status = 'ACCEPTED', last_event_ts = 200 WHERE document_id = 'v2-2'")
        #expect(try connection.query("SELECT last_webhook_id FROM document_reviews WHERE document_id = 'v2-2'").rows.first?
            .isNull("last_webhook_id") == true)
        let oldWorkersWebhook = VerdictRecord(
            webhookId: "msg_zzz", timestamp: 200, verdict: ReviewVerdict(agentId: "z", documentId: "v2-2", documentStatus: .declined))
        #expect(try VerdictStore().apply([oldWorkersWebhook], on: connection) == [.stale])
    }

    @Test func concurrentRunsDoNotCollide() async throws {
        let url = try TestEnvironment.makeDatabase("store-concurrent")
        // Two clients: two connections, each on its own thread.
        let first = PostgresClient(url: url)
        let second = PostgresClient(url: url)
        defer {
            first.shutdown()
            second.shutdown()
        }
        async let a = first.withConnection { try Migrator().migrate($0) }
        async let b = second.withConnection { try Migrator().migrate($0) }
        let results = try await [a, b]
        #expect(results.sorted { $0.count < $1.count } == [[], Array(1...Migrator.latestVersion)])

        let connection = try PostgresConnection(url: url)
        let versions = try connection.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { try $0.int("version") }
        #expect(versions == Array(1...Migrator.latestVersion))
        try Self.expectSchema(connection)
    }

    private static func expectSchema(_ connection: PostgresConnection) throws {
        let columns = try connection.query(
            """
            SELECT table_name, column_name, data_type, is_nullable
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name NOT LIKE 'webhook\\_log\\_%'
            ORDER BY table_name, ordinal_position
            """
        ).rows.map { row in
            "\(row["table_name"] ?? "").\(row["column_name"] ?? "") \(row["data_type"] ?? "") \(row["is_nullable"] == "NO" ? "not null" : "null")"
        }
        #expect(columns == [
            "document_reviews.id bigint not null",
            "document_reviews.document_url text not null",
            "document_reviews.document_status text not null",
            "document_reviews.agent_id text null",
            "document_reviews.document_id text null",
            "document_reviews.request_attempts integer not null",
            "document_reviews.next_request_at timestamp with time zone null",
            "document_reviews.claimed_until timestamp with time zone null",
            "document_reviews.last_error text null",
            "document_reviews.last_event_at timestamp with time zone null",
            "document_reviews.last_event_ts bigint null",
            "document_reviews.reviewed_at timestamp with time zone null",
            "document_reviews.created_at timestamp with time zone not null",
            "document_reviews.updated_at timestamp with time zone not null",
            "document_reviews.last_webhook_id text null",
            "processed_webhooks.webhook_id text not null",
            "processed_webhooks.document_id text null",
            "processed_webhooks.applied_at timestamp with time zone not null",
            "schema_migrations.version integer not null",
            "schema_migrations.applied_at timestamp with time zone null",
            "webhook_log.applied_at timestamp with time zone not null",
            "webhook_log.webhook_id text not null",
            "webhook_log.document_id text null",
            "webhook_log.verdict text null",
            "webhook_log.agent_id text null",
            "webhook_log.event_ts bigint null",
        ])
        let indexes = try connection.query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"
        ).rows
        let definitions = Dictionary(uniqueKeysWithValues: indexes.map { ($0["indexname"] ?? "", $0["indexdef"] ?? "") })
        #expect(definitions["document_reviews_due_queued_idx"]?.contains("(next_request_at NULLS FIRST, id) WHERE (document_status = 'QUEUED'::text)") == true)
        #expect(definitions["document_reviews_pending_updated_idx"]?.contains("(updated_at) WHERE (document_status = 'PENDING_REVIEW'::text)") == true)
        #expect(definitions["document_reviews_status_updated_idx"] == nil)
        #expect(definitions["document_reviews_document_id_key"] != nil)
        #expect(definitions["document_reviews_pkey"] != nil)
        #expect(definitions["processed_webhooks_pkey"] != nil)
        #expect(definitions.keys.allSatisfy { !$0.hasPrefix("webhook_log") },
                "the audit trail has no index to maintain: \(definitions.keys.sorted())")
        #expect(definitions["schema_migrations_pkey"] != nil)
    }
}
