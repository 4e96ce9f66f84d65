import Durations
import Logging
import Model
import Queue
import Store

/// Applies a batch of stream entries and settles each one: acknowledge the applied, duplicate and stale ones in one call,
/// retry or dead-letter the others atomically with their ack. Throws on an infrastructure failure, having settled nothing
/// in Redis (a batch committed in Postgres is then re-read and found duplicate).
struct BatchProcessor: Sendable {
    let verdicts: any VerdictSink
    let settler: any EntrySettler
    let disposition: EventDisposition
    let consumer: String
    let metrics: WorkerMetrics
    let logger: Logger
    /// The jitter draw in (0, 1].
    let random: @Sendable () -> Double
    /// Wall-clock Unix milliseconds (retry due times and `failed_at` are wall-clock).
    let wallClock: @Sendable () -> Int

    /// The store answered a different number of outcomes than it was given verdicts.
    struct StoreAnswerMismatch: Error, CustomStringConvertible {
        var records: Int
        var outcomes: Int
        var description: String { "the store answered \(outcomes) outcomes for \(records) verdicts" }
    }

    /// How a batch ended, for logs and tests.
    struct Summary: Sendable, Hashable {
        var acknowledged = 0
        var retried = 0
        var deadLettered = 0
    }

    @discardableResult
    func process(_ entries: [StreamEntry]) async throws -> Summary {
        guard !entries.isEmpty else { return Summary() }
        metrics.batchSize.record(entries.count)

        var decoded = BatchPlan.decode(entries)
        if !decoded.records.isEmpty {
            let started = ContinuousClock.now
            // A failure that is no event's fault (StoreUnavailable, or the connection) stops the whole batch: nothing is
            // settled.
            let stored = try await verdicts.apply(decoded.records)
            guard stored.count == decoded.records.count else {
                // Never settle on a partial answer: the entries stay pending and the batch is retried.
                throw StoreAnswerMismatch(records: decoded.records.count, outcomes: stored.count)
            }
            metrics.applyLatency.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            decoded.stored(stored)
        }

        let now = wallClock()
        let plan = BatchPlan.settle(entries, decoded, disposition: disposition, nowMilliseconds: now, random: random)
        let trimmed = try await settler.settle(plan, consumer: consumer, failedAtMilliseconds: now)
        reportTrimmed(trimmed)

        for (label, count) in plan.counts { metrics.count(label, count) }
        metrics.count(.retried, plan.retries.count)
        metrics.count(.dead, plan.dead.count)
        for retry in plan.retries {
            logger.info("Event will be retried", metadata: [
                "entry_id": "\(retry.entryId)", "webhook_id": "\(retry.envelope.webhookId)",
                "attempt": "\(retry.envelope.attempt)", "due_in_ms": "\(retry.dueAtMilliseconds - now)",
                "reason": "\(retry.reason)",
            ])
        }
        for item in plan.dead {
            logger.warning("Event dead-lettered", metadata: [
                "entry_id": "\(item.entryId)",
                "webhook_id": "\(StreamEntry.loggableWebhookId(item.fields))",
                "attempts": "\(item.attempts)", "reason": "\(item.reason)",
            ])
        }
        return Summary(acknowledged: plan.acknowledged.count, retried: plan.retries.count, deadLettered: plan.dead.count)
    }

    /// Says that the dead stream reached its bound and lost its oldest dead letters: a warning and a counter, never silent.
    func reportTrimmed(_ count: Int) {
        guard count > 0 else { return }
        metrics.deadTrimmed.increment(by: count)
        logger.warning("Dead stream at its bound: oldest dead letters removed", metadata: ["trimmed": "\(count)"])
    }
}
