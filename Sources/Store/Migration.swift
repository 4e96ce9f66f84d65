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

    /// Version 3 (issue 14): a verdict writes one row. Exactly-once effect comes from the document row itself: a verdict
    /// applies when its (webhook-timestamp, webhook-id) is newer than the pair stored on the document (`last_event_ts`,
    /// the new `last_webhook_id`), so `processed_webhooks`, which grew by a row per webhook forever, leaves the hot path.
    /// What it held becomes the first data of the audit trail, `webhook_log`: one row per applied webhook, partitioned by
    /// day on `applied_at` so that retention drops whole partitions (`AuditLog`). Rows carried over from
    /// `processed_webhooks` keep their webhook id, document id and time; their verdict, agent and timestamp were never
    /// recorded (NULL), and they include the ids of stale verdicts, which `processed_webhooks` recorded too. Those applied
    /// before the migration day sit in `webhook_log_before_<migration day>`, those of the day itself in that day's
    /// partition; retention drops both like any other. The migration makes the partitions for its day and the two after,
    /// so a worker can write before its first upkeep.
    ///
    /// `processed_webhooks` itself stays, unread and unwritten by this release, so that workers of the previous release
    /// keep working during a rolling upgrade (README, "Upgrading"); the next release's migration drops it, with the
    /// trigger that keeps their updates from leaving a mismatched (timestamp, id) pair. `document_reviews` is altered
    /// last, so it is locked for a moment, not for the copy.
    static let auditLog = Migration(
        version: 3,
        name: "verdicts ordered by (last_event_ts, last_webhook_id); processed_webhooks carried into the partitioned webhook_log",
        sql: """
            CREATE TABLE webhook_log (
                applied_at  timestamptz NOT NULL,
                webhook_id  text        NOT NULL,
                document_id text,
                verdict     text,
                agent_id    text,
                event_ts    bigint
            ) PARTITION BY RANGE (applied_at);

            DO $$
            DECLARE
                today date := (now() AT TIME ZONE 'UTC')::date;
                day date;
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF webhook_log FOR VALUES FROM (MINVALUE) TO (%L)',
                    'webhook_log_before_' || to_char(today, 'YYYYMMDD'), today::timestamp AT TIME ZONE 'UTC');
                FOR offset_days IN 0..2 LOOP
                    day := today + offset_days;
                    EXECUTE format('CREATE TABLE %I PARTITION OF webhook_log FOR VALUES FROM (%L) TO (%L)',
                        'webhook_log_' || to_char(day, 'YYYYMMDD'), day::timestamp AT TIME ZONE 'UTC',
                        (day + 1)::timestamp AT TIME ZONE 'UTC');
                END LOOP;
            END
            $$;

            INSERT INTO webhook_log (applied_at, webhook_id, document_id)
                SELECT least(applied_at, now()), webhook_id, document_id FROM processed_webhooks ORDER BY applied_at;

            -- Last, so document_reviews is locked for a moment and not for the copy; and never waits long for its lock.
            SET LOCAL lock_timeout = '10s';
            ALTER TABLE document_reviews ADD COLUMN last_webhook_id text;

            -- Workers of the release before, running beside this one during a rolling upgrade, move last_event_ts and
            -- leave last_webhook_id as it was. Forget the id then: the document falls back to the strictly-newer-timestamp
            -- rule instead of comparing with an id that did not decide it. Dropped with processed_webhooks.
            CREATE FUNCTION docket_forget_stale_webhook_id() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
                NEW.last_webhook_id := NULL;
                RETURN NEW;
            END
            $f$;
            CREATE TRIGGER document_reviews_forget_stale_webhook_id
                BEFORE UPDATE ON document_reviews FOR EACH ROW
                WHEN (NEW.last_event_ts IS DISTINCT FROM OLD.last_event_ts
                      AND NEW.last_webhook_id IS NOT DISTINCT FROM OLD.last_webhook_id
                      AND NEW.last_webhook_id IS NOT NULL)
                EXECUTE FUNCTION docket_forget_stale_webhook_id();
            """
    )
}
