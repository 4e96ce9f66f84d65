import Durations
import Model
import Store

/// What became of one event's attempt, before deciding what to do with its stream entry.
enum EventResult: Sendable, Hashable {
    /// What the store said: applied, duplicate, stale, not yet applicable (unknown document, wrong state), rejected
    /// (its data), or conflicted (a lock conflict).
    case stored(VerdictOutcome)
    /// The entry's fields are not an event envelope (missing or malformed field).
    case undecodableEvent(String)
    /// The body is not a valid verdict payload.
    case invalidBody(String)
}

/// What the worker does with a stream entry after an attempt.
enum EventAction: Sendable, Hashable {
    /// The effect is committed (or was already): XACK + XDEL.
    case acknowledge(EventOutcomeLabel)
    /// Retryable: back into the retry set with `attempt` failed attempts, due at `dueAtMilliseconds`, atomically with the ack.
    case retry(attempt: Int, dueAtMilliseconds: Int, reason: String)
    /// Permanent or exhausted: to the dead stream with the reason, atomically with the ack.
    case deadLetter(reason: String, attempts: Int)
}

/// The `outcome` label of `docket_worker_events_total`.
enum EventOutcomeLabel: String, Sendable, Hashable, CaseIterable {
    case applied, duplicate, stale, retried, dead
}

/// Classifies an attempt's result into ack / retry / dead-letter (docs/architecture.md, "The guarantees and where
/// each is kept"). No I/O: time and randomness are inputs.
struct EventDisposition: Sendable {
    let policy: RetryPolicy

    /// The action for an event whose delivery carried `attempt` earlier failed attempts.
    /// `random` is the jitter draw in (0, 1], evaluated only for a retry (a draw may cost a system call).
    func action(for result: EventResult, attempt: Int, nowMilliseconds: Int, random: @autoclosure () -> Double) -> EventAction {
        switch result {
        case .stored(.applied): return .acknowledge(.applied)
        case .stored(.duplicate): return .acknowledge(.duplicate)
        case .stored(.stale): return .acknowledge(.stale)
        case .stored(.unknownDocument):
            // The webhook can beat the scheduler's commit of the document id: wait for it.
            return retryOrGiveUp("unknown document: no review has this documentId", attempt, nowMilliseconds, random)
        case .stored(.wrongState(let status)):
            if status == ReviewStatus.queued.rawValue {
                // A QUEUED row with this document id is mid-request: the scheduler will move it to PENDING_REVIEW.
                return retryOrGiveUp("document is QUEUED: its review request is not recorded yet", attempt, nowMilliseconds, random)
            }
            return .deadLetter(reason: "document is \(status): it cannot take a verdict", attempts: attempt + 1)
        case .undecodableEvent(let reason):
            return .deadLetter(reason: "undecodable event: \(reason)", attempts: attempt + 1)
        case .invalidBody(let reason):
            return .deadLetter(reason: "invalid body: \(reason)", attempts: attempt + 1)
        case .stored(.rejected(let reason)):
            return .deadLetter(reason: "rejected by the database: \(reason)", attempts: attempt + 1)
        case .stored(.conflicted(let reason)):
            return retryOrGiveUp("database conflict: \(reason)", attempt, nowMilliseconds, random)
        }
    }

    private func retryOrGiveUp(_ reason: String, _ attempt: Int, _ nowMilliseconds: Int, _ random: () -> Double) -> EventAction {
        let failures = max(attempt, 0) + 1
        if policy.isExhausted(attempt: failures) {
            return .deadLetter(reason: "\(reason) (gave up after \(failures) attempts)", attempts: failures)
        }
        let delay = policy.delay(afterAttempt: max(attempt, 0), random: random())
        // Rounded up, so a retry is never due before its delay.
        return .retry(attempt: failures, dueAtMilliseconds: nowMilliseconds + delay.milliseconds(rounded: .up), reason: reason)
    }
}
