import Model

/// Everything the worker's services need, filled from flags and `DOCKET_*` variables in `WorkerCommand`.
struct WorkerConfiguration: Sendable {
    /// This process's name in the `workers` group (default `hostname-pid`).
    var consumer: String
    /// Most entries read and applied together.
    var batchSize: Int = 128
    /// Backoff and attempts for retryable event failures.
    var retryPolicy = RetryPolicy(base: .seconds(1), cap: .seconds(600), maxAttempts: 10)
    /// Entries pending longer than this are reclaimed from their (presumably dead) consumer.
    var visibilityTimeoutMilliseconds = 30_000
    /// An entry delivered more often than this is dead-lettered as poison.
    var maxDeliveries = 5
    /// XREADGROUP BLOCK; far below the Redis command timeout (hiredis drops the connection when that fires).
    var blockMilliseconds = 1_000
    /// How often due retries are moved back onto the stream.
    var promotionInterval: Duration = .milliseconds(500)
    /// Most retries moved per promotion step, so one step never holds Redis long.
    var promotionLimit = 1_000
    /// How long applied verdicts stay in the audit trail; nil: no audit rows are written.
    var auditRetention: Duration? = .seconds(30 * 86_400)
    /// The dead stream keeps its newest this many entries; 0: no bound.
    var deadMaxLength = 100_000

    /// Reclaim runs every half visibility timeout, between 250 ms and 5 s: often enough that a crashed consumer's entries
    /// wait little longer than the timeout, rarely enough to cost nothing.
    var reclaimIntervalMilliseconds: Int {
        min(5_000, max(250, visibilityTimeoutMilliseconds / 2))
    }
}
