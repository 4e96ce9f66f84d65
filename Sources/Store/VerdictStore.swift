public import Postgres
import Model

/// Applies Help Desk verdicts to `document_reviews` exactly once in effect (docs/architecture.md, "The guarantees
/// and where each is kept"): a batch is one statement, hence one transaction, and writes one row per document it decides.
///
/// Verdicts are ordered by (webhook-timestamp, webhook-id), ids compared byte by byte (`COLLATE "C"`: the order never
/// depends on the database's collation or its library's version). A verdict applies when its pair is newer than the pair stored
/// on the document (`last_event_ts`, `last_webhook_id`); the stored pair only ever grows, so no webhook takes effect twice
/// and the newest verdict wins whatever order, batching or worker the webhooks came through.
public struct VerdictStore: Sendable {
    /// Applies a batch in one statement (autocommit: one transaction, one round trip). Parameters are parallel arrays:
    /// $1 webhook ids, $2 document ids, $3 agent ids, $4 verdicts, $5 webhook-timestamps, and $6 whether applied verdicts
    /// go to the audit trail; the arrays must hold distinct webhook ids.
    /// Returns one row per input, in input order: `ord`, `outcome` (applied | stale | duplicate | unknown | <status>).
    ///
    /// Guarantees:
    /// - `target` locks every touched document row in document_id order, so concurrent batches on the same documents
    ///   serialise (no lost update, no deadlock between workers) and each sees the pair the one before it stored.
    /// - Per document only the newest verdict of the batch (highest timestamp, then highest webhook id) is written, and
    ///   only when its pair is newer than the stored one. A webhook whose id is the stored one is a redelivery
    ///   (`duplicate`), even if re-signed with another timestamp; any other webhook not newer is `stale`.
    /// - An unknown document or one that cannot take a verdict (QUEUED, REQUEST_FAILED) is left alone, so a retry can
    ///   still apply the verdict later.
    /// - A stored pair with a timestamp and no webhook id (decided before migration 3) is newer than every webhook with
    ///   that timestamp: the rule of the time was "strictly newer timestamp".
    /// - The audit row of an applied verdict is written from what the UPDATE changed and commits with it (`webhook_log`,
    ///   partitioned by day; `AuditLog`).
    static let applyBatchSQL = """
        WITH input AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[])
                WITH ORDINALITY AS i(webhook_id, document_id, agent_id, verdict, ts, ord)
        ),
        target AS (
            SELECT d.document_id, d.document_status, d.last_event_ts, d.last_webhook_id
            FROM document_reviews d
            WHERE d.document_id = ANY ($2::text[])
            ORDER BY d.document_id
            FOR UPDATE
        ),
        newest AS (
            SELECT DISTINCT ON (i.document_id) i.document_id, i.webhook_id, i.agent_id, i.verdict, i.ts, i.ord
            FROM input i JOIN target t ON t.document_id = i.document_id
            WHERE t.document_status IN ('PENDING_REVIEW', 'ACCEPTED', 'DECLINED')
              AND i.webhook_id IS DISTINCT FROM t.last_webhook_id
              AND (t.last_event_ts IS NULL OR i.ts > t.last_event_ts
                   OR (i.ts = t.last_event_ts AND i.webhook_id COLLATE "C" > t.last_webhook_id))
            ORDER BY i.document_id, i.ts DESC, i.webhook_id COLLATE "C" DESC
        ),
        updated AS (
            UPDATE document_reviews d
            SET document_status = n.verdict, agent_id = n.agent_id, reviewed_at = now(),
                last_event_at = to_timestamp(n.ts), last_event_ts = n.ts, last_webhook_id = n.webhook_id, updated_at = now()
            FROM newest n
            WHERE d.document_id = n.document_id
            RETURNING n.ord, n.webhook_id, n.document_id, n.verdict, n.agent_id, n.ts
        ),
        audited AS (
            INSERT INTO webhook_log (applied_at, webhook_id, document_id, verdict, agent_id, event_ts)
            SELECT now(), u.webhook_id, u.document_id, u.verdict, u.agent_id, u.ts FROM updated u WHERE $6::bool
        )
        SELECT i.ord,
            CASE
                WHEN u.ord IS NOT NULL THEN 'applied'
                WHEN t.document_id IS NULL THEN 'unknown'
                WHEN t.document_status NOT IN ('PENDING_REVIEW', 'ACCEPTED', 'DECLINED') THEN t.document_status
                WHEN i.webhook_id = t.last_webhook_id THEN 'duplicate'
                ELSE 'stale'
            END AS outcome
        FROM input i
        LEFT JOIN target t ON t.document_id = i.document_id
        LEFT JOIN updated u ON u.ord = i.ord
        ORDER BY i.ord
        """

    /// Run settings for the connections that apply verdicts (`PostgresClient(url:sessionSettings:)`).
    ///
    /// The batch statement is prepared once per connection and always runs its generic plan: planning it for each batch
    /// of literal arrays cost about a third of its time. A generic plan must not depend on how big the table was when it
    /// was made (a small `document_reviews` would be planned as a sequential scan, then kept while the table grows), so
    /// sequential scans are ruled out for these connections: the statement's one read goes through the document_id
    /// unique index.
    public static let sessionSettings: KeyValuePairs<String, String> = [
        "plan_cache_mode": "force_generic_plan",
        "enable_seqscan": "off",
    ]

    /// How often a batch that hit a lock or serialization conflict is re-run whole before falling back to one event at a time.
    public var conflictRetries: Int
    /// Whether each applied verdict gets a `webhook_log` row (`DOCKET_AUDIT_RETENTION` > 0).
    public var recordsAudit: Bool

    /// Creates a store.
    public init(conflictRetries: Int = 2, recordsAudit: Bool = true) {
        self.conflictRetries = conflictRetries
        self.recordsAudit = recordsAudit
    }

    /// Applies `records` in one transaction and returns each one's outcome in input order; any error rolls back all of them.
    public func apply(_ records: [VerdictRecord], on connection: PostgresConnection) throws(PostgresError) -> [VerdictOutcome] {
        if records.isEmpty { return [] }
        // A webhook id repeated in one batch is one webhook delivered twice: only the first copy goes to SQL.
        var firstIndex: [String: Int] = [:]
        var unique: [VerdictRecord] = []
        var sqlIndex = [Int](repeating: 0, count: records.count)
        var repeatOf = [Int?](repeating: nil, count: records.count)
        for (index, record) in records.enumerated() {
            if let first = firstIndex[record.webhookId] {
                repeatOf[index] = first
            } else {
                firstIndex[record.webhookId] = index
                sqlIndex[index] = unique.count
                unique.append(record)
            }
        }
        let outcomes = try applyUnique(unique, on: connection)
        var result: [VerdictOutcome] = []
        result.reserveCapacity(records.count)
        for index in records.indices {
            if let first = repeatOf[index] {
                // The first copy carries the effect; the repeat mirrors it (a retry or dead letter of the first covers both).
                switch outcomes[sqlIndex[first]] {
                case .applied, .stale, .duplicate: result.append(.duplicate)
                case let other: result.append(other)
                }
            } else {
                result.append(outcomes[sqlIndex[index]])
            }
        }
        return result
    }

    /// Applies a batch in one transaction, re-running it on a lock conflict; when it fails because of an event (its data,
    /// or a persistent conflict) it applies one event at a time, so the others still commit. Returns an outcome per
    /// record, `rejected` and `conflicted` included; throws only a failure that is no event's fault (connection lost,
    /// schema missing, ...), with nothing committed by the failing statement.
    public func applyIsolatingFailures(
        _ records: [VerdictRecord], on connection: PostgresConnection
    ) throws(StoreUnavailable) -> [VerdictOutcome] {
        var attempt = 0
        while true {
            do {
                return try apply(records, on: connection)
            } catch {
                let kind = FailureKind(error)
                if kind == .conflict && attempt < conflictRetries {
                    attempt += 1
                    continue
                }
                guard kind != .infrastructure else { throw StoreUnavailable(error) }
                if records.count == 1 { return [Self.outcome(of: error, kind)] }
                break
            }
        }
        var outcomes: [VerdictOutcome] = []
        outcomes.reserveCapacity(records.count)
        for record in records {
            do {
                outcomes.append(try apply([record], on: connection)[0])
            } catch {
                let kind = FailureKind(error)
                guard kind != .infrastructure else { throw StoreUnavailable(error) }
                outcomes.append(Self.outcome(of: error, kind))
            }
        }
        return outcomes
    }

    /// The outcome of one event whose statement failed for a reason of its own.
    private static func outcome(of error: PostgresError, _ kind: FailureKind) -> VerdictOutcome {
        kind == .conflict ? .conflicted(FailureKind.summary(error)) : .rejected(FailureKind.summary(error))
    }

    private func applyUnique(_ records: [VerdictRecord], on connection: PostgresConnection) throws(PostgresError) -> [VerdictOutcome] {
        var webhookIds: [String?] = []
        var documentIds: [String?] = []
        var agentIds: [String?] = []
        var verdicts: [String?] = []
        var timestamps: [Int?] = []
        webhookIds.reserveCapacity(records.count)
        documentIds.reserveCapacity(records.count)
        agentIds.reserveCapacity(records.count)
        verdicts.reserveCapacity(records.count)
        timestamps.reserveCapacity(records.count)
        for record in records {
            webhookIds.append(record.webhookId)
            documentIds.append(record.verdict.documentId)
            agentIds.append(record.verdict.agentId)
            verdicts.append(record.verdict.documentStatus.rawValue)
            timestamps.append(record.timestamp)
        }
        let result = try connection.queryPrepared(Self.applyBatchSQL, [
            .textArray(webhookIds), .textArray(documentIds), .textArray(agentIds), .textArray(verdicts), .intArray(timestamps),
            .bool(recordsAudit),
        ])
        var outcomes = [VerdictOutcome?](repeating: nil, count: records.count)
        for row in result.rows {
            guard let ord = try row.int("ord"), (1...records.count).contains(ord) else {
                throw PostgresError(code: .protocol, message: "verdict batch returned an ordinal outside 1...\(records.count)")
            }
            outcomes[ord - 1] = Self.outcome(try row.string("outcome"))
        }
        var complete: [VerdictOutcome] = []
        complete.reserveCapacity(records.count)
        for outcome in outcomes {
            guard let outcome else {
                throw PostgresError(code: .protocol, message: "verdict batch returned \(result.rows.count) rows for \(records.count) events")
            }
            complete.append(outcome)
        }
        return complete
    }

    private static func outcome(_ text: String) -> VerdictOutcome {
        switch text {
        case "applied": .applied
        case "stale": .stale
        case "duplicate": .duplicate
        case "unknown": .unknownDocument
        default: .wrongState(text)
        }
    }
}
