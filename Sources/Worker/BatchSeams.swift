import Durations
import Postgres
import Queue
import Redis
import Store

/// Where a batch's verdicts go: the seam between `BatchProcessor`'s decisions and Postgres, so its branches can be
/// tested with an in-memory store as well as the real one.
protocol VerdictSink: Sendable {
    /// One outcome per record, in order; throws when the store is unavailable, with nothing committed.
    func apply(_ records: [VerdictRecord]) async throws -> [VerdictOutcome]
}

/// Where a batch's entries are settled: the seam between `BatchProcessor` and Redis.
protocol EntrySettler: Sendable {
    /// Acknowledges, schedules the retries and dead-letters what `plan` says, on one connection; returns how many old
    /// dead letters the dead stream's bound removed. Throws with the entries still pending (they are retried).
    func settle(_ plan: BatchPlan, consumer: String, failedAtMilliseconds: Int) async throws -> Int
}

/// The verdict store on the worker's Postgres connection.
struct PostgresVerdictSink: VerdictSink {
    let store: VerdictStore
    let client: PostgresClient

    func apply(_ records: [VerdictRecord]) async throws -> [VerdictOutcome] {
        let store = self.store
        return try await client.withConnection { connection in try store.applyIsolatingFailures(records, on: connection) }
    }
}

/// The queue's settle scripts on the worker's Redis connection.
struct RedisEntrySettler: EntrySettler {
    let queue: EventQueue
    let client: RedisClient
    /// The dead stream's bound (`DOCKET_DEAD_MAXLEN`; 0: none).
    let deadMaxLength: Int

    func settle(_ plan: BatchPlan, consumer: String, failedAtMilliseconds: Int) async throws -> Int {
        let queue = self.queue
        let deadMaxLength = self.deadMaxLength
        return try await client.withConnection { connection -> Int in
            try queue.acknowledge(connection, ids: plan.acknowledged)
            for retry in plan.retries {
                try queue.scheduleRetry(
                    connection, entryId: retry.entryId, envelope: retry.envelope, dueAtMilliseconds: retry.dueAtMilliseconds)
            }
            var trimmed = 0
            for item in plan.dead {
                trimmed += try queue.deadLetter(
                    connection, entryId: item.entryId, fields: item.fields, reason: item.reason, attempts: item.attempts,
                    consumer: consumer, failedAtMilliseconds: failedAtMilliseconds, maxLength: deadMaxLength
                ).trimmed
            }
            return trimmed
        }
    }
}
