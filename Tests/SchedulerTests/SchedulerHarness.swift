import Curl
import Foundation
import Postgres
import Store
import TestSupport

/// One test's world: its own migrated database, and helpers to run helpdesk-sim and docket-scheduler against it.
struct SchedulerHarness: Sendable {
    /// A secret in the Standard Webhooks format (the spec's example key).
    static let secret = TestSecret.webhook

    let databaseURL: String
    let database: PostgresClient
    let curl: CurlClient

    /// Creates and migrates a fresh database named after the test.
    static func make(_ name: String) async throws -> SchedulerHarness {
        let url = try TestEnvironment.makeDatabase(name)
        let database = PostgresClient(url: url)
        _ = try await database.withConnection { try Migrator().migrate($0) }
        return SchedulerHarness(databaseURL: url, database: database, curl: CurlClient(maxConnections: 64))
    }

    func shutdown() {
        database.shutdown()
        curl.shutdown()
    }

    // MARK: - Database

    /// Queues `urls` the way `docketctl submit` does.
    @discardableResult
    func submit(_ urls: [String]) async throws -> [Int] {
        try await database.withConnection { connection in
            try connection.transaction { try ReviewStore().submit(urls, on: $0) }
        }
    }

    /// `count` distinct document URLs.
    static func urls(_ count: Int, tag: String = TestEnvironment.uniquePrefix("doc")) -> [String] {
        (1...count).map { "https://docs.example.com/\(tag)/\($0).pdf" }
    }

    /// One review row as the tests look at it.
    struct Review: Sendable {
        var id: Int
        var url: String
        var status: String
        var agentId: String?
        var documentId: String?
        var attempts: Int
        var lastError: String?
        var claimed: Bool
    }

    func reviews() async throws -> [Review] {
        let result = try await database.query(
            """
            SELECT id, document_url, document_status, agent_id, document_id, request_attempts, last_error,
                   claimed_until IS NOT NULL AS claimed
            FROM document_reviews ORDER BY id
            """
        )
        return try result.rows.map { row in
            Review(
                id: try row.int("id") ?? 0,
                url: try row.string("document_url"),
                status: try row.string("document_status"),
                agentId: row["agent_id"],
                documentId: row["document_id"],
                attempts: try row.int("request_attempts") ?? 0,
                lastError: row["last_error"],
                claimed: try row.bool("claimed") ?? false
            )
        }
    }

    /// Waits until every review has left QUEUED (or `done` holds), then returns them.
    @discardableResult
    func waitForReviews(
        timeout: Duration = .seconds(60),
        what: String = "every review to leave QUEUED",
        until done: @Sendable ([Review]) -> Bool = { reviews in reviews.allSatisfy { $0.status != "QUEUED" } }
    ) async throws -> [Review] {
        var latest: [Review] = []
        try await waitUntil(timeout: timeout, poll: .milliseconds(100), what: what) {
            latest = try await reviews()
            return done(latest)
        }
        return latest
    }

    // MARK: - Processes

    /// Starts helpdesk-sim on a free port with `arguments`; returns once `/livez` answers and the process is still up.
    /// Parallel tests can be handed the same "free" port: the loser exits on bind, so it is started again elsewhere.
    func startSimulator(_ arguments: [String] = []) async throws -> (process: ChildProcess, url: String) {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = freePort()
            let process = try ChildProcess.launch(
                product: "helpdesk-sim",
                arguments: ["--port", "\(port)"] + arguments,
                environment: ["DOCKET_WEBHOOK_SECRET": Self.secret]
            )
            let url = "http://127.0.0.1:\(port)"
            do {
                try await waitForLive(url + "/livez", process: process)
                // Another test's process may have answered on this port while ours failed to bind.
                try await Task.sleep(for: .milliseconds(300))
                if process.isRunning { return (process, url) }
                lastError = HarnessError(description: "helpdesk-sim exited after start:\n\(process.output)")
            } catch {
                lastError = error
            }
            process.kill9()
        }
        throw lastError ?? HarnessError(description: "helpdesk-sim did not start")
    }

    /// Starts docket-scheduler on this database against `helpDeskURL`; fast polling and backoff unless overridden
    /// (later flags win in ArgumentParser).
    func startScheduler(helpDeskURL: String, metricsPort: Int = 0, _ arguments: [String] = []) throws -> ChildProcess {
        try ChildProcess.launch(
            product: "docket-scheduler",
            arguments: [
                "--database-url", databaseURL,
                "--helpdesk-url", helpDeskURL,
                "--callback-url", "http://127.0.0.1:9/document/update",
                "--metrics-port", "\(metricsPort)",
                "--poll-interval-ms", "100",
                "--request-retry-base-ms", "10",
                "--request-retry-cap-ms", "100",
                "--request-timeout-ms", "5000",
                "--claim-lease-ms", "10000",
                "--log-level", "info",
            ] + arguments
        )
    }

    func waitForLive(_ url: String, process: ChildProcess) async throws {
        try await waitUntil(timeout: .seconds(30), poll: .milliseconds(50), what: "\(url) to answer") {
            guard process.isRunning else {
                throw HarnessError(description: "process exited early:\n\(process.output)")
            }
            let response = try? await curl.perform(CurlRequest(url: url, connectTimeout: .seconds(1), timeout: .seconds(2)))
            return response?.status == 200
        }
    }

    // MARK: - The simulator's view

    func simulatedDocuments(_ simulatorURL: String) async throws -> [HelpDeskReview] {
        let response = try await curl.perform(CurlRequest(url: simulatorURL + "/documents"))
        guard response.status == 200 else {
            throw HarnessError(description: "GET /documents answered \(response.status)")
        }
        return try JSONDecoder().decode([HelpDeskReview].self, from: Data(response.body))
    }

    /// POST /document to the simulator as a client would.
    func requestReview(
        _ simulatorURL: String,
        body: String,
        callbackURL: String?,
        idempotencyKey: String? = nil
    ) async throws -> CurlResponse {
        var headers = [CurlHeader(name: "Content-Type", value: "application/json")]
        if let callbackURL { headers.append(CurlHeader(name: "X-Callback-Url", value: callbackURL)) }
        if let idempotencyKey { headers.append(CurlHeader(name: "Idempotency-Key", value: idempotencyKey)) }
        return try await curl.perform(CurlRequest(method: "POST", url: simulatorURL + "/document", headers: headers, body: Array(body.utf8)))
    }

    /// The Prometheus text from a scheduler's metrics port.
    func metrics(port: Int) async throws -> String {
        let response = try await curl.perform(CurlRequest(url: "http://127.0.0.1:\(port)/metrics"))
        return String(decoding: response.body, as: UTF8.self)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}
