import Durations
import Queue
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

/// Verdicts applied through the store's client (one statement per batch, `VerdictStore`).
struct StoreVerdictSink: VerdictSink {
    let store: VerdictStore
    let client: StoreClient

    func apply(_ records: [VerdictRecord]) async throws -> [VerdictOutcome] {
        try await client.applyVerdicts(records, with: store)
    }
}

/// A batch settled through the queue's client, on one connection.
struct QueueEntrySettler: EntrySettler {
    let client: QueueClient
    let deadMaxLength: Int

    func settle(_ plan: BatchPlan, consumer: String, failedAtMilliseconds: Int) async throws -> Int {
        try await client.settle(
            plan.settlement, consumer: consumer, failedAtMilliseconds: failedAtMilliseconds, deadMaxLength: deadMaxLength)
    }
}
