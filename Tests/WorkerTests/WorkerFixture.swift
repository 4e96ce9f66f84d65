import Foundation
import Model
import Postgres
import Queue
import Redis
import Store
import TestSupport

/// One test's world: its own database (migrated), its own Redis key prefix, clients to inspect both, and launched workers.
final class WorkerFixture: Sendable {
    let databaseURL: String
    let redisURL: String
    let prefix: String
    let queue: EventQueue
    let postgres: PostgresClient
    let redis: RedisClient

    /// Migrates `databaseURL` (default: a fresh database on the shared Postgres) and picks a unique key prefix.
    init(_ name: String, databaseURL: String? = nil, redisURL: String = TestEnvironment.redisURL) throws {
        self.databaseURL = try databaseURL ?? TestEnvironment.makeDatabase(name)
        let connection = try PostgresConnection(url: self.databaseURL)
        _ = try Migrator().migrate(connection)
        connection.close()
        self.redisURL = redisURL
        prefix = TestEnvironment.uniquePrefix(name)
        queue = EventQueue(prefix: prefix)
        postgres = PostgresClient(url: self.databaseURL)
        redis = RedisClient(configuration: try RedisConfiguration(url: redisURL))
    }

    deinit {
        postgres.shutdown()
        redis.shutdown()
    }

    // MARK: - Postgres

    /// Inserts PENDING_REVIEW rows with these document ids.
    func seedDocuments(_ documentIds: [String]) async throws {
        let ids = documentIds.map { Optional($0) }
        try await postgres.query(
            """
            INSERT INTO document_reviews (document_url, document_status, document_id)
            SELECT 'https://docs.example/' || d, 'PENDING_REVIEW', d FROM unnest($1::text[]) AS d
            """, [.textArray(ids)])
    }

    /// `count` document ids `doc-0`...
    static func documentIds(_ count: Int, _ tag: String = "doc") -> [String] {
        (0..<count).map { "\(tag)-\($0)" }
    }

    /// Status, agent, last_event_ts and last_webhook_id of one document.
    func document(_ documentId: String) async throws -> (status: String, agent: String?, lastEventTs: Int?, lastWebhookId: String?)? {
        let rows = try await postgres.query(
            "SELECT document_status, agent_id, last_event_ts, last_webhook_id FROM document_reviews WHERE document_id = $1",
            [.text(documentId)]).rows
        guard let row = rows.first else { return nil }
        return (try row.string("document_status"), row["agent_id"], try row.int("last_event_ts"), row["last_webhook_id"])
    }

    /// How many documents have left PENDING_REVIEW.
    func reviewedCount() async throws -> Int {
        let row = try await postgres.query(
            "SELECT count(*) AS n FROM document_reviews WHERE document_status IN ('ACCEPTED', 'DECLINED')").rows.first
        return try row?.int("n") ?? 0
    }

    /// Rows in the audit trail: one per applied verdict.
    func auditCount() async throws -> Int {
        try await postgres.query("SELECT count(*) AS n FROM webhook_log").rows.first?.int("n") ?? 0
    }

    // MARK: - Redis

    /// A verdict body as the Help Desk sends it.
    static func body(documentId: String, status: Verdict = .accepted, agent: String = "agent-7") -> [UInt8] {
        Array(#"{"agentId":"\#(agent)","documentId":"\#(documentId)","documentStatus":"\#(status.rawValue)"}"#.utf8)
    }

    /// Enqueues verdicts through the gateway's own enqueue (dedupe and all), on one connection.
    func enqueue(_ envelopes: [EventEnvelope]) async throws {
        let queue = self.queue
        try await redis.withConnection { connection in
            for envelope in envelopes {
                _ = try queue.enqueue(envelope, dedupeTTLSeconds: 3_600, maxBacklog: 10_000_000, on: connection)
            }
        }
    }

    /// One verdict event per document, webhook ids `wh-<documentId>`, webhook-timestamp `timestamp`.
    static func verdicts(for documentIds: [String], status: Verdict = .accepted, timestamp: Int = 1_700_000_000) -> [EventEnvelope] {
        documentIds.map { id in
            EventEnvelope(
                webhookId: "wh-\(id)", timestamp: timestamp, receivedAt: timestamp * 1000,
                body: body(documentId: id, status: status))
        }
    }

    /// XADD of raw fields, bypassing the gateway's dedupe (a redelivery, or a malformed entry).
    @discardableResult
    func addRaw(_ fields: [(String, [UInt8])]) async throws -> String {
        var command: [RedisArgument] = ["XADD", RedisArgument(queue.keys.events), "*"]
        for (name, value) in fields {
            command.append(RedisArgument(name))
            command.append(RedisArgument(bytes: value))
        }
        return try await redis.send(command).string ?? ""
    }

    func streamLength(_ key: String) async throws -> Int {
        try await redis.send("XLEN", RedisArgument(key)).int ?? 0
    }

    func retryCount() async throws -> Int {
        try await redis.send("ZCARD", RedisArgument(queue.keys.retry)).int ?? 0
    }

    /// Entries delivered to the group and not settled (0 when the group does not exist).
    func pendingCount() async throws -> Int {
        do {
            return try await redis.send("XPENDING", RedisArgument(queue.keys.events), "workers").array?.first?.int ?? 0
        } catch {
            return 0
        }
    }

    /// Every dead letter, oldest first.
    func deadLetters() async throws -> [DeadLetter] {
        let queue = self.queue
        return try await redis.withConnection { connection in try queue.allDeadLetters(connection) }
    }

    // MARK: - Workers

    /// Launches `docket-worker` against this fixture; metrics endpoint off so several can run at once.
    func launchWorker(consumer: String? = nil, environment: [String: String] = [:]) throws -> ChildProcess {
        var env = [
            "DOCKET_REDIS_URL": redisURL,
            "DOCKET_DATABASE_URL": databaseURL,
            "DOCKET_REDIS_PREFIX": prefix,
            "DOCKET_METRICS_PORT": "0",
            "DOCKET_LOG_LEVEL": "info",
        ]
        env.merge(environment) { _, new in new }
        return try ChildProcess.launch(
            product: "docket-worker", arguments: consumer.map { ["--consumer", $0] } ?? [], environment: env)
    }

    /// Waits until `count` documents are reviewed, the stream is empty and nothing is pending.
    func waitUntilDrained(reviewed count: Int, timeout: Duration, workers: [ChildProcess] = []) async throws {
        do {
            try await waitUntil(timeout: timeout, poll: .milliseconds(100), what: "\(count) verdicts applied and the stream drained") {
                // Outage tests poll through restarts: a failed look is just "not yet".
                guard let reviewed = try? await reviewedCount(), let backlog = try? await streamLength(queue.keys.events),
                      let pending = try? await pendingCount()
                else { return false }
                return reviewed >= count && backlog == 0 && pending == 0
            }
        } catch {
            for worker in workers { print("--- worker \(worker.pid) output:\n\(worker.output.suffix(4000))") }
            throw error
        }
    }
}

/// Scales event counts of the heavier tests (DOCKET_TEST_SCALE, default 1).
enum TestScale {
    static func count(_ base: Int) -> Int {
        let factor = ProcessInfo.processInfo.environment["DOCKET_TEST_SCALE"].flatMap(Double.init) ?? 1
        return max(1, Int((Double(base) * factor).rounded()))
    }
}
