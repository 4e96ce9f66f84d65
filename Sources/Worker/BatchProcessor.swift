import Logging
import Model
import Postgres
import Queue
import Redis
import Store

/// Applies a batch of stream entries and settles each one: acknowledge the applied, duplicate and stale ones in one call,
/// retry or dead-letter the others atomically with their ack. Throws on an infrastructure failure, having settled nothing
/// in Redis (a batch committed in Postgres is then re-read and found duplicate).
struct BatchProcessor: Sendable {
    let queue: EventQueue
    let store: VerdictStore
    let postgres: PostgresClient
    let redis: RedisClient
    let disposition: EventDisposition
    let consumer: String
    /// The dead stream's bound (`DOCKET_DEAD_MAXLEN`; 0: none).
    let deadMaxLength: Int
    let metrics: WorkerMetrics
    let logger: Logger
    /// The jitter draw in (0, 1].
    let random: @Sendable () -> Double
    /// Wall-clock Unix milliseconds (retry due times and `failed_at` are wall-clock).
    let nowMilliseconds: @Sendable () -> Int

    /// How a batch ended, for logs and tests.
    struct Summary: Sendable, Hashable {
        var acknowledged = 0
        var retried = 0
        var deadLettered = 0
    }

    /// One entry that goes to the retry set.
    private struct Retry: Sendable {
        var entryId: String
        var envelope: EventEnvelope
        var dueAtMilliseconds: Int
        var reason: String
    }

    /// One entry that goes to the dead stream.
    private struct Dead: Sendable {
        var entryId: String
        var fields: [(name: String, value: [UInt8])]
        var reason: String
        var attempts: Int
    }

    @discardableResult
    func process(_ entries: [StreamEntry]) async throws -> Summary {
        guard !entries.isEmpty else { return Summary() }
        metrics.batchSize.record(entries.count)

        var results = [EventResult?](repeating: nil, count: entries.count)
        var envelopes = [EventEnvelope?](repeating: nil, count: entries.count)
        var records: [VerdictRecord] = []
        var recordEntry: [Int] = []
        records.reserveCapacity(entries.count)
        recordEntry.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let envelope: EventEnvelope
            do {
                envelope = try EventEnvelope(fields: entry.fields)
            } catch {
                results[index] = .undecodableEvent(error.description)
                continue
            }
            envelopes[index] = envelope
            do {
                let verdict = try ReviewVerdict.decode(envelope.body)
                records.append(VerdictRecord(webhookId: envelope.webhookId, timestamp: envelope.timestamp, verdict: verdict))
                recordEntry.append(index)
            } catch {
                results[index] = .invalidBody(error.description)
            }
        }

        if !records.isEmpty {
            let started = ContinuousClock.now
            let store = self.store
            let batch = records
            let stored = try await postgres.withConnection { connection in
                try store.applyIsolatingFailures(batch, on: connection)
            }
            metrics.applyLatency.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started))
            for (position, result) in stored.enumerated() {
                switch result {
                case .success(let outcome):
                    results[recordEntry[position]] = .stored(outcome)
                case .failure(let error):
                    // A failure that is not this event's fault stops the whole batch: nothing is settled.
                    guard let eventResult = FailureClass.eventResult(for: error) else { throw error }
                    results[recordEntry[position]] = eventResult
                }
            }
        }

        let now = nowMilliseconds()
        var acknowledged: [String] = []
        var counts: [EventOutcomeLabel: Int] = [:]
        var retries: [Retry] = []
        var dead: [Dead] = []
        acknowledged.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            guard let result = results[index] else { continue }
            let attempt = envelopes[index]?.attempt ?? 0
            switch disposition.action(for: result, attempt: attempt, nowMilliseconds: now, random: random()) {
            case .acknowledge(let label):
                acknowledged.append(entry.id)
                counts[label, default: 0] += 1
            case .retry(let nextAttempt, let dueAt, let reason):
                if var envelope = envelopes[index] {
                    envelope.attempt = nextAttempt
                    retries.append(Retry(entryId: entry.id, envelope: envelope, dueAtMilliseconds: dueAt, reason: reason))
                } else {
                    // Unreachable (only decoded events are retried), but an entry is never left unsettled.
                    dead.append(Dead(entryId: entry.id, fields: entry.fields, reason: reason, attempts: attempt + 1))
                }
            case .deadLetter(let reason, let attempts):
                dead.append(Dead(entryId: entry.id, fields: entry.fields, reason: reason, attempts: attempts))
            }
        }

        let queue = self.queue
        let consumer = self.consumer
        let toAcknowledge = acknowledged
        let toRetry = retries
        let toBury = dead
        let deadMaxLength = self.deadMaxLength
        let trimmed = try await redis.withConnection { connection -> Int in
            try queue.acknowledge(connection, ids: toAcknowledge)
            for retry in toRetry {
                try queue.scheduleRetry(
                    connection, entryId: retry.entryId, envelope: retry.envelope, dueAtMilliseconds: retry.dueAtMilliseconds)
            }
            var trimmed = 0
            for item in toBury {
                trimmed += try queue.deadLetter(
                    connection, entryId: item.entryId, fields: item.fields, reason: item.reason, attempts: item.attempts,
                    consumer: consumer, failedAtMilliseconds: now, maxLength: deadMaxLength
                ).trimmed
            }
            return trimmed
        }
        reportTrimmed(trimmed)

        for (label, count) in counts { metrics.count(label, count) }
        metrics.count(.retried, retries.count)
        metrics.count(.dead, dead.count)
        for retry in retries {
            logger.info("Event will be retried", metadata: [
                "entry_id": "\(retry.entryId)", "webhook_id": "\(retry.envelope.webhookId)",
                "attempt": "\(retry.envelope.attempt)", "due_in_ms": "\(retry.dueAtMilliseconds - now)",
                "reason": "\(retry.reason)",
            ])
        }
        for item in dead {
            logger.warning("Event dead-lettered", metadata: [
                "entry_id": "\(item.entryId)",
                "webhook_id": "\(Self.webhookId(item.fields))",
                "attempts": "\(item.attempts)", "reason": "\(item.reason)",
            ])
        }
        return Summary(acknowledged: acknowledged.count, retried: retries.count, deadLettered: dead.count)
    }

    /// Says that the dead stream reached its bound and lost its oldest dead letters: a warning and a counter, never silent.
    func reportTrimmed(_ count: Int) {
        guard count > 0 else { return }
        metrics.deadTrimmed.increment(by: count)
        logger.warning("Dead stream at its bound: oldest dead letters removed", metadata: [
            "trimmed": "\(count)", "dead_maxlen": "\(deadMaxLength)",
        ])
    }

    /// The webhook id field for logs (never the body).
    static func webhookId(_ fields: [(name: String, value: [UInt8])]) -> String {
        guard let value = fields.first(where: { $0.name == EventEnvelope.Field.webhookId.rawValue })?.value else { return "-" }
        return String(decoding: value.prefix(256), as: UTF8.self)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
