public import Foundation
public import Model
public import Postgres

/// One `document_reviews` row as an operator reads it (docs/reference.md §9).
public struct ReviewRecord: Sendable, Hashable {
    public var id: Int
    public var documentURL: String
    /// The stored status; nil only if the row holds a value this release does not know.
    public var status: ReviewStatus?
    public var agentId: String?
    public var documentId: String?
    public var requestAttempts: Int
    public var nextRequestAt: Date?
    public var lastError: String?
    /// When the newest applied verdict was applied, and its webhook timestamp (Unix seconds) and id.
    public var lastEventAt: Date?
    public var lastEventTimestamp: Int?
    public var lastWebhookId: String?
    public var reviewedAt: Date?
    public var createdAt: Date?
    public var updatedAt: Date?
}

/// Which reviews an operator is looking for: every condition given must hold.
public struct ReviewQuery: Sendable, Hashable {
    /// The Help Desk's documentId, exactly.
    public var documentId: String?
    /// Text the document URL contains.
    public var urlContains: String?
    public var status: ReviewStatus?

    public init(documentId: String? = nil, urlContains: String? = nil, status: ReviewStatus? = nil) {
        self.documentId = documentId.flatMap { $0.isEmpty ? nil : $0 }
        self.urlContains = urlContains.flatMap { $0.isEmpty ? nil : $0 }
        self.status = status
    }
}

extension ReviewStore {
    static let recordColumns = """
        id, document_url, document_status, agent_id, document_id, request_attempts, next_request_at, last_error,
        last_event_at, last_event_ts, last_webhook_id, reviewed_at, created_at, updated_at
        """

    /// Newest first, ids below `beforeId`; NULL parameters are conditions not given. A document id is found through
    /// its unique index; a URL or status search over a large table scans it, as an occasional operator query may.
    static let searchSQL = """
        SELECT \(recordColumns) FROM document_reviews
        WHERE ($1::text IS NULL OR document_id = $1)
          AND ($2::text IS NULL OR strpos(document_url, $2) > 0)
          AND ($3::text IS NULL OR document_status = $3)
          AND ($4::bigint IS NULL OR id < $4)
        ORDER BY id DESC
        LIMIT $5
        """

    /// Reviews matching `query`, newest first, at most `limit`, with ids below `beforeId` (for the next page).
    public func reviews(
        matching query: ReviewQuery, beforeId: Int?, limit: Int, on connection: PostgresConnection
    ) throws(PostgresError) -> [ReviewRecord] {
        let parameters: [PostgresValue] = [
            query.documentId.map { .text($0) } ?? .null,
            query.urlContains.map { .text($0) } ?? .null,
            query.status.map { .text($0.rawValue) } ?? .null,
            beforeId.map { .int($0) } ?? .null,
            .int(limit),
        ]
        var records: [ReviewRecord] = []
        for row in try connection.query(Self.searchSQL, parameters).rows {
            records.append(try Self.record(row))
        }
        return records
    }

    /// One review by id, or nil.
    public func review(id: Int, on connection: PostgresConnection) throws(PostgresError) -> ReviewRecord? {
        let rows = try connection.query("SELECT \(Self.recordColumns) FROM document_reviews WHERE id = $1", [.int(id)]).rows
        guard let row = rows.first else { return nil }
        return try Self.record(row)
    }

    static func record(_ row: PostgresRow) throws(PostgresError) -> ReviewRecord {
        ReviewRecord(
            id: try row.int("id") ?? 0,
            documentURL: row["document_url"] ?? "",
            status: row["document_status"].flatMap(ReviewStatus.init(rawValue:)),
            agentId: row["agent_id"],
            documentId: row["document_id"],
            requestAttempts: try row.int("request_attempts") ?? 0,
            nextRequestAt: try row.date("next_request_at"),
            lastError: row["last_error"],
            lastEventAt: try row.date("last_event_at"),
            lastEventTimestamp: try row.int("last_event_ts"),
            lastWebhookId: row["last_webhook_id"],
            reviewedAt: try row.date("reviewed_at"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
