import Durations
public import Model
public import Postgres

/// The outbound side of `document_reviews`: queueing submissions, claiming due reviews with a lease, and recording
/// what the Help Desk answered. Every function runs on a connection the caller owns (a `PostgresClient`'s thread).
public struct ReviewStore: Sendable {
    /// The NOTIFY channel that wakes schedulers when reviews are queued.
    public static let notifyChannel = "docket_reviews"

    public init() {}

    // MARK: - Submitting

    /// Inserts every URL as one QUEUED row, in input order (ids ascend with it), in a single statement.
    static let insertQueuedSQL = """
        INSERT INTO document_reviews (document_url)
        SELECT url FROM unnest($1::text[]) WITH ORDINALITY AS submitted(url, position)
        ORDER BY position
        RETURNING id
        """

    /// Wakes listening schedulers; inside a transaction it is delivered at COMMIT (and never after a ROLLBACK),
    /// and identical notifications of one transaction are folded into one.
    static let notifySQL = "SELECT pg_notify('\(notifyChannel)', '')"

    /// Queues `urls` (already validated) and notifies schedulers; returns the new ids in input order.
    /// Wrap several calls in `connection.transaction` to make a large submission all-or-nothing.
    public func submit(_ urls: [String], on connection: PostgresConnection) throws(PostgresError) -> [Int] {
        guard !urls.isEmpty else { return [] }
        let result = try connection.query(Self.insertQueuedSQL, [.textArray(urls)])
        var ids: [Int] = []
        ids.reserveCapacity(result.rows.count)
        for row in result.rows {
            if let id = try row.int("id") { ids.append(id) }
        }
        try connection.query(Self.notifySQL)
        // RETURNING follows insertion order in practice; sorting makes input order a guarantee (ids come from one sequence).
        return ids.sorted()
    }

    // MARK: - Claiming

    /// Claims up to $1 due QUEUED reviews (never requested or retry time passed, and no live lease) for $2 ms.
    /// SKIP LOCKED keeps concurrent schedulers off each other's rows; a row another scheduler claimed and committed
    /// meanwhile is re-checked (READ COMMITTED re-evaluation) and dropped because its lease is now live.
    /// The CTE walks the partial index document_reviews_due_queued_idx.
    static let claimDueSQL = """
        WITH due AS (
            SELECT id FROM document_reviews
            WHERE document_status = 'QUEUED'
              AND (next_request_at IS NULL OR next_request_at <= now())
              AND (claimed_until IS NULL OR claimed_until <= now())
            ORDER BY next_request_at NULLS FIRST, id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        )
        UPDATE document_reviews AS review
        SET claimed_until = now() + $2::float8 * interval '1 millisecond'
        FROM due
        WHERE review.id = due.id
        RETURNING review.id, review.document_url, review.request_attempts
        """

    /// Claims up to `limit` due reviews for `lease`; a scheduler that dies holding them loses them when the lease ends.
    public func claimDue(limit: Int, lease: Duration, on connection: PostgresConnection) throws(PostgresError) -> [ClaimedReview] {
        guard limit > 0 else { return [] }
        let result = try connection.query(Self.claimDueSQL, [.int(limit), .int(lease.milliseconds())])
        var claimed: [ClaimedReview] = []
        claimed.reserveCapacity(result.rows.count)
        for row in result.rows {
            guard let id = try row.int("id") else { continue }
            claimed.append(
                ClaimedReview(
                    id: id,
                    documentURL: try row.string("document_url"),
                    requestAttempts: try row.int("request_attempts") ?? 0
                )
            )
        }
        return claimed.sorted { $0.id < $1.id }
    }

    /// Releases claims (graceful shutdown with requests never sent or abandoned): the rows are due again at once.
    /// Only QUEUED rows are touched, so a review recorded meanwhile keeps its state.
    static let releaseClaimsSQL = """
        UPDATE document_reviews SET claimed_until = NULL
        WHERE id = ANY($1::bigint[]) AND document_status = 'QUEUED'
        """

    /// Gives claimed reviews back so another scheduler can take them without waiting for the lease.
    public func releaseClaims(ids: [Int], on connection: PostgresConnection) throws(PostgresError) {
        guard !ids.isEmpty else { return }
        try connection.query(Self.releaseClaimsSQL, [.intArray(ids)])
    }

    // MARK: - Recording answers

    /// The Help Desk took the review: PENDING_REVIEW with its ids, claim cleared. Only a QUEUED row changes, so a
    /// late duplicate answer (after a crash and a repeat) cannot move a review that already progressed.
    static let recordAcceptedSQL = """
        UPDATE document_reviews
        SET document_status = 'PENDING_REVIEW', agent_id = $2, document_id = $3,
            request_attempts = request_attempts + 1, next_request_at = NULL, claimed_until = NULL,
            last_error = NULL, updated_at = now()
        WHERE id = $1 AND document_status = 'QUEUED'
        """

    /// Records an accepted request; false when the row was no longer QUEUED (already recorded elsewhere).
    /// Throws a unique violation (SQLSTATE 23505) when another review already holds `documentId`.
    @discardableResult
    public func recordAccepted(
        id: Int,
        agentId: String,
        documentId: String,
        on connection: PostgresConnection
    ) throws(PostgresError) -> Bool {
        try connection.query(Self.recordAcceptedSQL, [.int(id), .text(agentId), .text(documentId)]).affectedRows == 1
    }

    /// A retryable failure: one more attempt counted, due again after $3 ms by the database clock (so schedulers
    /// with skewed clocks agree), the reason kept, claim cleared.
    static let recordRetrySQL = """
        UPDATE document_reviews
        SET request_attempts = request_attempts + 1,
            next_request_at = now() + $3::float8 * interval '1 millisecond',
            last_error = $2, claimed_until = NULL, updated_at = now()
        WHERE id = $1 AND document_status = 'QUEUED'
        """

    /// Records a failed attempt to retry after `delay`; false when the row was no longer QUEUED.
    @discardableResult
    public func recordRetry(id: Int, error: String, retryAfter delay: Duration, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        let params: [PostgresValue] = [.int(id), .text(Self.truncated(error)), .int(delay.milliseconds())]
        return try connection.query(Self.recordRetrySQL, params).affectedRows == 1
    }

    /// A hopeless review: REQUEST_FAILED with the reason, attempt counted, claim and retry time cleared.
    static let recordFailedSQL = """
        UPDATE document_reviews
        SET document_status = 'REQUEST_FAILED', request_attempts = request_attempts + 1,
            next_request_at = NULL, claimed_until = NULL, last_error = $2, updated_at = now()
        WHERE id = $1 AND document_status = 'QUEUED'
        """

    /// Marks a review REQUEST_FAILED with `reason`; false when the row was no longer QUEUED.
    @discardableResult
    public func recordFailed(id: Int, reason: String, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query(Self.recordFailedSQL, [.int(id), .text(Self.truncated(reason))]).affectedRows == 1
    }

    /// Writes many outcomes in one pipeline and one implicit transaction (one commit, one round trip): all or none.
    /// A failure (e.g. a documentId another review holds, 23505) throws and writes nothing; write one at a time then.
    public func record(_ outcomes: [ReviewOutcome], on connection: PostgresConnection) throws(PostgresError) {
        guard !outcomes.isEmpty else { return }
        _ = try connection.pipeline(outcomes.map(Self.statement(for:)))
    }

    /// Writes one outcome; false when the review was no longer QUEUED.
    @discardableResult
    public func record(_ outcome: ReviewOutcome, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        let statement = Self.statement(for: outcome)
        return try connection.query(statement.sql, statement.params).affectedRows == 1
    }

    /// Writes one outcome on its own. An accepted answer whose documentId another review already holds (a unique
    /// violation) marks this review REQUEST_FAILED instead: storing the id twice would misroute its verdict. False when
    /// the review was no longer QUEUED.
    @discardableResult
    public func recordAlone(_ outcome: ReviewOutcome, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        do {
            return try record(outcome, on: connection)
        } catch {
            guard FailureKind.isUniqueViolation(error), case .accepted(let id, _, let documentId) = outcome else { throw error }
            return try recordFailed(
                id: id, reason: "Help Desk answered with documentId \(documentId), which another review already has", on: connection)
        }
    }

    static func statement(for outcome: ReviewOutcome) -> (sql: String, params: [PostgresValue]) {
        switch outcome {
        case .accepted(let id, let agentId, let documentId):
            (recordAcceptedSQL, [.int(id), .text(agentId), .text(documentId)])
        case .retry(let id, let error, let delay):
            (recordRetrySQL, [.int(id), .text(truncated(error)), .int(delay.milliseconds())])
        case .failed(let id, let reason):
            (recordFailedSQL, [.int(id), .text(truncated(reason))])
        }
    }

    // MARK: - Stats

    /// Reviews per status, in one pass over the table.
    static let countByStatusSQL = "SELECT document_status, count(*) AS reviews FROM document_reviews GROUP BY document_status"

    /// Reviews per status; every status is present (0 when none).
    public func countByStatus(on connection: PostgresConnection) throws(PostgresError) -> [ReviewStatus: Int] {
        var counts = Dictionary(uniqueKeysWithValues: ReviewStatus.allCases.map { ($0, 0) })
        for row in try connection.query(Self.countByStatusSQL).rows {
            if let status = row["document_status"].flatMap(ReviewStatus.init(rawValue:)) {
                counts[status] = try row.int("reviews") ?? 0
            }
        }
        return counts
    }

    /// Age in seconds of the review that has waited longest for its verdict (it entered PENDING_REVIEW at
    /// updated_at); served by document_reviews_pending_updated_idx.
    static let oldestPendingReviewSQL = """
        SELECT EXTRACT(EPOCH FROM now() - min(updated_at))::float8 AS age
        FROM document_reviews WHERE document_status = 'PENDING_REVIEW'
        """

    /// Seconds the oldest PENDING_REVIEW has been waiting; nil when none is pending.
    public func oldestPendingReviewAge(on connection: PostgresConnection) throws(PostgresError) -> Double? {
        try connection.query(Self.oldestPendingReviewSQL).rows.first?.double("age")
    }

    /// PENDING_REVIEW rows waiting longer than $1 ms: verdicts the Help Desk probably lost.
    static let stalePendingCountSQL = """
        SELECT count(*) AS stale FROM document_reviews
        WHERE document_status = 'PENDING_REVIEW' AND updated_at < now() - $1::float8 * interval '1 millisecond'
        """

    /// How many reviews have waited for a verdict longer than `timeout`.
    public func stalePendingCount(olderThan timeout: Duration, on connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.query(Self.stalePendingCountSQL, [.int(timeout.milliseconds())]).rows.first?.int("stale") ?? 0
    }

    // MARK: - Helpers

    /// Longest `last_error` kept; Help Desk error bodies can be large and only the gist is useful.
    static let maxErrorLength = 1000

    static func truncated(_ text: String) -> String {
        text.count <= maxErrorLength ? text : String(text.prefix(maxErrorLength)) + "…"
    }
}
