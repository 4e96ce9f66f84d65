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
        try connection.query("INSERT INTO processed_webhooks (webhook_id, document_id) VALUES ('msg_1', 'doc-1')")
        #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO processed_webhooks (webhook_id) VALUES ('msg_1')")
        }
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

    @Test func aVersionOneDatabaseWithReviewsIsUpgraded() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("store-upgrade"))
        _ = try Migrator().migrate(connection)
        // Put the database back to what version 1 left, with reviews in it.
        try connection.execute(
            """
            DELETE FROM schema_migrations WHERE version >= 2;
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
            FROM information_schema.columns WHERE table_schema = 'public'
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
            "processed_webhooks.webhook_id text not null",
            "processed_webhooks.document_id text null",
            "processed_webhooks.applied_at timestamp with time zone not null",
            "schema_migrations.version integer not null",
            "schema_migrations.applied_at timestamp with time zone null",
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
        #expect(definitions["schema_migrations_pkey"] != nil)
    }
}
