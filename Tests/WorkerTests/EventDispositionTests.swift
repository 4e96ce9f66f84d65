import Model
import Store
import Testing
@testable import Worker

@Suite struct EventDispositionTests {
    let disposition = EventDisposition(policy: RetryPolicy(base: .seconds(1), cap: .seconds(600), maxAttempts: 3))
    let now = 1_700_000_000_000

    @Test func committedOutcomesAreAcknowledged() {
        #expect(disposition.action(for: .stored(.applied), attempt: 0, nowMilliseconds: now, random: 1) == .acknowledge(.applied))
        #expect(disposition.action(for: .stored(.duplicate), attempt: 2, nowMilliseconds: now, random: 1) == .acknowledge(.duplicate))
        #expect(disposition.action(for: .stored(.stale), attempt: 0, nowMilliseconds: now, random: 1) == .acknowledge(.stale))
    }

    /// The jitter draw (a getrandom call per draw) is made only for retries, not for every applied event.
    @Test func onlyRetriesDrawRandomness() {
        var draws = 0
        func draw() -> Double {
            draws += 1
            return 0.5
        }
        for result in [EventResult.stored(.applied), .stored(.duplicate), .stored(.stale), .invalidBody("x"), .undecodableEvent("y")] {
            _ = disposition.action(for: result, attempt: 0, nowMilliseconds: now, random: draw())
        }
        #expect(draws == 0)
        #expect(disposition.action(for: .stored(.unknownDocument), attempt: 1, nowMilliseconds: now, random: draw())
            == .retry(attempt: 2, dueAtMilliseconds: now + 1_000, reason: "unknown document: no review has this documentId"))
        #expect(draws == 1)
    }

    @Test func unknownDocumentIsRetriedWithCappedJitteredBackoff() {
        // Attempt 0 waits at most base·2^0 = 1 s; the retry carries attempt 1.
        #expect(disposition.action(for: .stored(.unknownDocument), attempt: 0, nowMilliseconds: now, random: 1)
            == .retry(attempt: 1, dueAtMilliseconds: now + 1_000, reason: "unknown document: no review has this documentId"))
        // Attempt 1 waits at most 2 s; half the jitter draw gives 1 s.
        guard case .retry(let attempt, let due, _) = disposition.action(
            for: .stored(.unknownDocument), attempt: 1, nowMilliseconds: now, random: 0.5)
        else {
            Issue.record("expected a retry")
            return
        }
        #expect(attempt == 2)
        #expect(due == now + 1_000)
    }

    @Test func retryIsNeverImmediate() {
        guard case .retry(_, let due, _) = disposition.action(
            for: .stored(.unknownDocument), attempt: 0, nowMilliseconds: now, random: 1e-12)
        else {
            Issue.record("expected a retry")
            return
        }
        #expect(due > now)
    }

    @Test func exhaustedRetriesAreDeadLetteredWithTheReason() {
        // Two failures happened before; this third one uses up maxAttempts = 3.
        let action = disposition.action(for: .stored(.unknownDocument), attempt: 2, nowMilliseconds: now, random: 1)
        #expect(action == .deadLetter(
            reason: "unknown document: no review has this documentId (gave up after 3 attempts)", attempts: 3))
    }

    @Test func conflictsAreRetryable() {
        let action = disposition.action(for: .stored(.conflicted("40P01 deadlock detected")), attempt: 0, nowMilliseconds: now, random: 1)
        #expect(action == .retry(attempt: 1, dueAtMilliseconds: now + 1_000, reason: "database conflict: 40P01 deadlock detected"))
    }

    @Test func queuedDocumentIsRetriedButRequestFailedIsPermanent() {
        guard case .retry = disposition.action(for: .stored(.wrongState("QUEUED")), attempt: 0, nowMilliseconds: now, random: 1) else {
            Issue.record("a QUEUED document's request may still be recorded: retry")
            return
        }
        #expect(disposition.action(for: .stored(.wrongState("REQUEST_FAILED")), attempt: 0, nowMilliseconds: now, random: 1)
            == .deadLetter(reason: "document is REQUEST_FAILED: it cannot take a verdict", attempts: 1))
    }

    @Test func undecodableEventsAreDeadLetteredAtOnce() {
        #expect(disposition.action(for: .undecodableEvent("event entry has no body field"), attempt: 0, nowMilliseconds: now, random: 1)
            == .deadLetter(reason: "undecodable event: event entry has no body field", attempts: 1))
        #expect(disposition.action(for: .invalidBody("invalid review verdict: body: not valid JSON"), attempt: 4, nowMilliseconds: now, random: 1)
            == .deadLetter(reason: "invalid body: invalid review verdict: body: not valid JSON", attempts: 5))
        #expect(disposition.action(for: .stored(.rejected("22008 timestamp out of range")), attempt: 0, nowMilliseconds: now, random: 1)
            == .deadLetter(reason: "rejected by the database: 22008 timestamp out of range", attempts: 1))
    }
}
