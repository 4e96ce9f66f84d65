/// One versioned step of the schema: SQL run once, in the migration transaction, and recorded in schema_migrations.
struct Migration: Sendable {
    /// Strictly increasing; never reused or edited once released.
    let version: Int
    /// A short name for logs.
    let name: String
    /// One or more statements for the simple protocol.
    let sql: String

    init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension Migration {
    /// Version 1 (docs/reference.md §9): reviews, processed webhooks, and the indexes the scheduler and stats queries
    /// use.
    /// `claimed_until` is the scheduler's claim lease; `last_event_ts` (webhook-timestamp, s) orders verdicts.
    static let createReviewTables = Migration(
        version: 1,
        name: "create document_reviews and processed_webhooks",
        sql: """
            CREATE TABLE document_reviews (
                id               bigserial   PRIMARY KEY,
                document_url     text        NOT NULL,
                document_status  text        NOT NULL DEFAULT 'QUEUED'
                    CONSTRAINT document_reviews_status_check CHECK (document_status IN
                        ('QUEUED', 'PENDING_REVIEW', 'ACCEPTED', 'DECLINED', 'REQUEST_FAILED')),
                agent_id         text,
                document_id      text        UNIQUE,
                request_attempts int         NOT NULL DEFAULT 0,
                next_request_at  timestamptz,
                claimed_until    timestamptz,
                last_error       text,
                last_event_at    timestamptz,
                last_event_ts    bigint,
                reviewed_at      timestamptz,
                created_at       timestamptz NOT NULL DEFAULT now(),
                updated_at       timestamptz NOT NULL DEFAULT now()
            );

            -- The scheduler's scan: due QUEUED reviews, never-tried ones (NULL) first, oldest id next.
            CREATE INDEX document_reviews_due_queued_idx
                ON document_reviews (next_request_at NULLS FIRST, id)
                WHERE document_status = 'QUEUED';

            -- Counts by status and the oldest PENDING_REVIEW for stats and stale-review checks.
            CREATE INDEX document_reviews_status_updated_idx
                ON document_reviews (document_status, updated_at);

            CREATE TABLE processed_webhooks (
                webhook_id  text        PRIMARY KEY,
                document_id text,
                applied_at  timestamptz NOT NULL DEFAULT now()
            );
            """
    )

    /// Version 2: the verdict write path maintains one index fewer. A verdict changes document_status and updated_at, so
    /// every applied verdict had to add an entry to (document_status, updated_at). The queries that need an index ask
    /// only about PENDING_REVIEW rows (the scheduler's stale-review check, the oldest pending review in `docketctl stats`),
    /// and a partial index on updated_at serves them directly; a verdict takes its row out of that index instead of adding
    /// an entry. The counts by status in `docketctl stats` scan the table, as an occasional operator query may.
    static let pendingReviewIndex = Migration(
        version: 2,
        name: "replace the status/updated_at index with a partial index on pending reviews",
        sql: """
            CREATE INDEX document_reviews_pending_updated_idx
                ON document_reviews (updated_at)
                WHERE document_status = 'PENDING_REVIEW';

            DROP INDEX document_reviews_status_updated_idx;
            """
    )
}
