public import Model
import Postgres

/// The store for operators (docketctl and its console): a Postgres client of its own, whose thread runs every call,
/// and errors in the store's terms: an unreachable Postgres is `StoreUnavailable`. Callers never see a Postgres type.
public final class StoreClient: Sendable {
    private let postgres: PostgresClient

    /// Nothing connects until the first call.
    public init(url: String) {
        postgres = PostgresClient(url: url)
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

    private func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        do {
            return try await postgres.withConnection(body)
        } catch let error as PostgresError where FailureKind(error) == .infrastructure {
            throw StoreUnavailable(error)
        }
    }
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
