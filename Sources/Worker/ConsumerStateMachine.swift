import Runtime

/// The consume loop's decisions, without I/O: what to do next (read own pending entries, read new ones, retry the batch
/// in hand, reclaim, back off, stop), given what happened. Time is a monotonic millisecond count supplied by the caller.
///
/// A batch that failed for an infrastructure reason stays in hand and is retried as it is after the backoff: it is not
/// read again, because every XREADGROUP of a pending entry raises its delivery count, and a long outage would otherwise
/// turn good events into "poison" for whichever worker reclaims them.
struct ConsumerStateMachine: Sendable {
    /// Where reads come from.
    enum Mode: Sendable, Hashable {
        /// This consumer's own pending entries (at start and after every failure): delivered but never settled.
        case ownPending
        /// New entries, blocking until some arrive.
        case new
    }

    /// The next step of the loop.
    enum Action: Sendable, Hashable {
        case readOwnPending
        case readNew
        /// Settle again the batch whose settling failed (after confirming it is still ours).
        case retryHeldBatch
        /// Dead-letter poison entries and claim entries idle past the visibility timeout.
        case reclaim
        /// Infrastructure failed: wait this long before talking to Redis and Postgres again.
        case backOff(Duration)
        /// Shutdown requested and nothing in hand: leave the loop.
        case stop
    }

    private(set) var mode: Mode = .ownPending
    private(set) var isStopping = false
    /// True from an infrastructure failure until the next fully settled batch (or empty read).
    private(set) var isFailing = false
    /// A batch failed to settle and is kept in hand for the next attempt.
    private(set) var holdsBatch = false
    private var pendingBackoff: Duration?
    private var backoff: Backoff
    private let reclaimIntervalMilliseconds: Int
    private var nextReclaimAt: Int

    /// `now` is the loop's start time; the first reclaim runs one interval later.
    init(reclaimIntervalMilliseconds: Int, backoff: Backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5)), now: Int) {
        self.reclaimIntervalMilliseconds = reclaimIntervalMilliseconds
        self.backoff = backoff
        self.nextReclaimAt = now + reclaimIntervalMilliseconds
    }

    /// What to do next.
    mutating func nextAction(now: Int) -> Action {
        if isStopping { return .stop }
        if let delay = pendingBackoff {
            pendingBackoff = nil
            return .backOff(delay)
        }
        if holdsBatch { return .retryHeldBatch }
        switch mode {
        case .ownPending:
            return .readOwnPending
        case .new:
            return now >= nextReclaimAt ? .reclaim : .readNew
        }
    }

    /// A read of `mode` returned `count` entries (and, when `count > 0`, they were settled).
    mutating func readSucceeded(_ mode: Mode, count: Int) {
        if count == 0 {
            // Nothing in hand and Redis answered: the own pending list is drained (or nothing new came).
            if mode == .ownPending { self.mode = .new }
            recovered()
        }
    }

    /// A batch was applied and every entry acknowledged, retried or dead-lettered.
    mutating func batchSettled() {
        recovered()
    }

    /// The reclaim pass finished; the next one is due an interval from `now`.
    mutating func reclaimFinished(now: Int) {
        nextReclaimAt = now + reclaimIntervalMilliseconds
        recovered()
    }

    /// The batch in hand was settled (or turned out to be no longer ours): continue with the own pending entries.
    mutating func heldBatchSettled() {
        holdsBatch = false
        recovered()
    }

    /// Redis or Postgres failed: nothing was acknowledged, so back off, then retry the batch in hand (`holdingBatch`) or
    /// start over from the own pending entries.
    mutating func infrastructureFailed(holdingBatch: Bool) {
        isFailing = true
        holdsBatch = holdingBatch
        mode = .ownPending
        pendingBackoff = backoff.next()
    }

    /// Graceful shutdown: finish the batch in hand, then stop at the next decision.
    mutating func shutdownRequested() {
        isStopping = true
    }

    private mutating func recovered() {
        isFailing = false
        backoff.reset()
    }
}
