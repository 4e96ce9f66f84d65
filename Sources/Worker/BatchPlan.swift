import Model
import Queue
import Store

/// A batch's decisions, without I/O (docs/architecture.md, "The guarantees and where each is kept"): which entries
/// decode to verdicts for the store, and, once the store has answered, which entries are acknowledged, retried or
/// dead-lettered. `BatchProcessor` does the I/O around it.
struct BatchPlan: Sendable {
    /// One entry that goes to the retry set.
    struct Retry: Sendable {
        var entryId: String
        var envelope: EventEnvelope
        var dueAtMilliseconds: Int
        var reason: String
    }

    /// One entry that goes to the dead stream, with its fields as they are: what Redis is told, as it is.
    typealias Dead = Settlement.Dead

    /// The decoded half of a batch: what goes to the store, and the entries already decided without it.
    struct Decoded: Sendable {
        var envelopes: [EventEnvelope?]
        /// Per entry: set for entries that failed to decode (they never reach the store).
        var results: [EventResult?]
        /// The verdicts for the store, and the entry index of each.
        var records: [VerdictRecord]
        var recordEntry: [Int]

        /// Fills in the store's answers, one per record, in order.
        mutating func stored(_ outcomes: [VerdictOutcome]) {
            for (entry, outcome) in zip(recordEntry, outcomes) {
                results[entry] = .stored(outcome)
            }
        }
    }

    var acknowledged: [String] = []
    var counts: [EventOutcomeLabel: Int] = [:]
    var retries: [Retry] = []
    var dead: [Dead] = []

    /// What Redis is told: the acknowledgements, retries and dead letters, without the reasons kept for logs.
    var settlement: Settlement {
        Settlement(
            acknowledged: acknowledged,
            retries: retries.map { Settlement.Retry(entryId: $0.entryId, envelope: $0.envelope, dueAtMilliseconds: $0.dueAtMilliseconds) },
            dead: dead)
    }

    /// Decodes each entry's envelope and body; an entry that fails either is decided here (dead-lettered later).
    static func decode(_ entries: [StreamEntry]) -> Decoded {
        var decoded = Decoded(
            envelopes: [EventEnvelope?](repeating: nil, count: entries.count),
            results: [EventResult?](repeating: nil, count: entries.count), records: [], recordEntry: [])
        decoded.records.reserveCapacity(entries.count)
        decoded.recordEntry.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let envelope: EventEnvelope
            do {
                envelope = try EventEnvelope(fields: entry.fields)
            } catch {
                decoded.results[index] = .undecodableEvent(error.description)
                continue
            }
            decoded.envelopes[index] = envelope
            do {
                let verdict = try ReviewVerdict.decode(envelope.body)
                decoded.records.append(VerdictRecord(webhookId: envelope.webhookId, timestamp: envelope.timestamp, verdict: verdict))
                decoded.recordEntry.append(index)
            } catch {
                decoded.results[index] = .invalidBody(error.description)
            }
        }
        return decoded
    }

    /// Settles every entry whose result is known: each is acknowledged, retried or dead-lettered, exactly one of them.
    /// `random` is drawn only for retries.
    static func settle(
        _ entries: [StreamEntry], _ decoded: Decoded, disposition: EventDisposition, nowMilliseconds: Int,
        random: () -> Double
    ) -> BatchPlan {
        var plan = BatchPlan()
        plan.acknowledged.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            guard let result = decoded.results[index] else { continue }
            let attempt = decoded.envelopes[index]?.attempt ?? 0
            switch disposition.action(for: result, attempt: attempt, nowMilliseconds: nowMilliseconds, random: random()) {
            case .acknowledge(let label):
                plan.acknowledged.append(entry.id)
                plan.counts[label, default: 0] += 1
            case .retry(let nextAttempt, let dueAt, let reason):
                if var envelope = decoded.envelopes[index] {
                    envelope.attempt = nextAttempt
                    plan.retries.append(Retry(entryId: entry.id, envelope: envelope, dueAtMilliseconds: dueAt, reason: reason))
                } else {
                    // Unreachable (only decoded events are retried), but an entry is never left unsettled.
                    plan.dead.append(Dead(entryId: entry.id, fields: entry.fields, reason: reason, attempts: attempt + 1))
                }
            case .deadLetter(let reason, let attempts):
                plan.dead.append(Dead(entryId: entry.id, fields: entry.fields, reason: reason, attempts: attempts))
            }
        }
        return plan
    }
}
