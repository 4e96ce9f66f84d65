public import Model
import Postgres

/// The store over a Postgres client of its own, whose thread runs every call, for every process but the gateway
/// (docketctl and its console, the worker, the scheduler); errors in the store's terms: an unreachable or misconfigured
/// Postgres is `StoreUnavailable`, a statement refused for the data's sake `StoreFailure`. Callers never see a Postgres
/// type.
public final class StoreClient: Sendable {
    private let postgres: PostgresClient

    /// Nothing connects until the first call.
    public init(url: String) {
        postgres = PostgresClient(url: url)
    }

    /// For a worker's verdict writes: every connection it opens gets `VerdictStore.sessionSettings`.
    public init(verdictsAt url: String) {
        postgres = PostgresClient(url: url, sessionSettings: VerdictStore.sessionSettings)
    }

    /// Closes the connection; later calls fail with `StoreUnavailable`.
    public func shutdown() {
        postgres.shutdown()
    }

    /// Brings the schema to the latest version (docs/reference.md §9); the versions applied, none when up to date.
    public func migrate() async throws -> [Int] {
        try await run { connection in try Migrator().migrate(connection) }
    }

    /// Reviews by status, the oldest pending review's age and the audit trail's size, read together.
    public func overview() async throws -> StoreOverview {
        try await run { connection in
            let reviews = ReviewStore()
            return StoreOverview(
                reviews: try reviews.countByStatus(on: connection),
                oldestPendingReviewSeconds: try reviews.oldestPendingReviewAge(on: connection),
                audit: try AuditLog().summary(on: connection))
        }
    }

    /// Verdicts recorded in the audit trail so far (`AuditLog.insertedRows`), for the applied-verdicts rate.
    public func appliedVerdictsCounter() async throws -> Int {
        try await run { connection in try AuditLog().insertedRows(on: connection) }
    }

    /// Reviews matching `query`, newest first.
    public func reviews(matching query: ReviewQuery, beforeId: Int?, limit: Int) async throws -> [ReviewRecord] {
        try await run { connection in try ReviewStore().reviews(matching: query, beforeId: beforeId, limit: limit, on: connection) }
    }

    /// One review, or nil.
    public func review(id: Int) async throws -> ReviewRecord? {
        try await run { connection in try ReviewStore().review(id: id, on: connection) }
    }

    /// Runs `body` in one transaction: every URL it submits is queued, or none is (the transaction rolls back when
    /// `body` throws). Schedulers are woken at commit.
    public func submitAtomically<T: Sendable>(_ body: @escaping @Sendable (ReviewSubmission) throws -> T) async throws -> T {
        try await run { connection in
            try connection.transaction { connection in try body(ReviewSubmission(connection: connection)) }
        }
    }

    // MARK: - The worker's writes

    /// Applies a batch of verdicts in one statement (`VerdictStore.applyIsolatingFailures`): one outcome per record.
    public func applyVerdicts(_ records: [VerdictRecord], with store: VerdictStore) async throws -> [VerdictOutcome] {
        try await run { connection in try store.applyIsolatingFailures(records, on: connection) }
    }

    /// The audit trail's upkeep (`AuditLog.upkeep`).
    public func auditUpkeep(_ audit: AuditLog, retention: Duration?) async throws -> AuditLog.UpkeepReport {
        try await run { connection in try audit.upkeep(retention: retention, on: connection) }
    }

    // MARK: - The scheduler's

    /// Claims up to `limit` due reviews for `lease` (`ReviewStore.claimDue`).
    public func claimDue(limit: Int, lease: Duration) async throws -> [ClaimedReview] {
        try await run { connection in try ReviewStore().claimDue(limit: limit, lease: lease, on: connection) }
    }

    /// Gives claims back unsettled, so another scheduler takes them at once.
    public func releaseClaims(ids: [Int]) async throws {
        try await run { connection in try ReviewStore().releaseClaims(ids: ids, on: connection) }
    }

    /// Records request outcomes in one pipeline and one commit; a statement error rolls the whole batch back and is
    /// thrown as `StoreFailure` (not `StoreUnavailable`), so the caller can record them one by one.
    public func record(_ outcomes: [ReviewOutcome]) async throws {
        try await run { connection in try ReviewStore().record(outcomes, on: connection) }
    }

    /// Records one outcome on its own (`ReviewStore.recordAlone`); whether a row changed.
    @discardableResult
    public func recordAlone(_ outcome: ReviewOutcome) async throws -> Bool {
        try await run { connection in try ReviewStore().recordAlone(outcome, on: connection) }
    }

    /// How many reviews have waited for a verdict longer than `timeout`.
    public func stalePendingCount(olderThan timeout: Duration) async throws -> Int {
        try await run { connection in try ReviewStore().stalePendingCount(olderThan: timeout, on: connection) }
    }

    /// Waits up to `timeout` for `NOTIFY docket_reviews` (a submission), LISTENing first when the connection is not the
    /// one that listened last (`listeningBackend`: a reconnect loses the LISTEN). Returns the connection's backend
    /// (compare it with the last to know a LISTEN was re-issued, and notifications in between may have been missed)
    /// and whether a notification came.
    public func waitForSubmissions(listeningBackend: Int32, timeout: Duration) async throws -> (backend: Int32, notified: Bool) {
        try await run { connection in
            if connection.backendPID != listeningBackend {
                try connection.listen(ReviewStore.notifyChannel)
            }
            return (connection.backendPID, try !connection.waitForNotifications(timeout: timeout).isEmpty)
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        do {
            return try await postgres.withConnection(body)
        } catch let error as PostgresError where FailureKind(error) == .infrastructure {
            throw StoreUnavailable(error)
        } catch let error as PostgresError {
            throw StoreFailure(description: error.description)
        }
    }
}

/// A statement was refused for the data's sake (a constraint, a conflict): nothing it did was committed; unlike
/// `StoreUnavailable`, trying the same again will not help.
public struct StoreFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The store's figures for `docketctl stats` and the console's overview.
public struct StoreOverview: Sendable, Hashable {
    /// Every status, 0 when none.
    public var reviews: [ReviewStatus: Int]
    /// Seconds the oldest PENDING_REVIEW has waited; nil when none is pending.
    public var oldestPendingReviewSeconds: Double?
    public var audit: AuditLog.Summary
}

/// Queues URLs inside `StoreClient.submitAtomically`'s transaction.
public struct ReviewSubmission {
    let connection: PostgresConnection

    /// Queues `urls` (already validated); their new ids, in input order.
    public func submit(_ urls: [String]) throws -> [Int] {
        try ReviewStore().submit(urls, on: connection)
    }
}
