import Durations
/// Capped exponential backoff with full jitter: `min(cap, base·2^attempt)·random`, and when to give up.
public struct RetryPolicy: Sendable, Hashable {
    /// The shortest retry delays are never below this, so a retry is never immediate (retry scores are in ms).
    public static let minimumDelay: Duration = .milliseconds(1)

    /// The ceiling for attempt 0.
    public var base: Duration
    /// The largest ceiling, whatever the attempt.
    public var cap: Duration
    /// Attempts allowed before the work is given up (dead-lettered or marked failed).
    public var maxAttempts: Int

    /// Creates a policy.
    public init(base: Duration, cap: Duration, maxAttempts: Int) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    /// The wait after failed attempt `attempt` (0-based): `min(cap, base·2^attempt)·random`, `random` in (0, 1].
    ///
    /// Overflow-safe for any attempt; `random` outside (0, 1] is clamped; the result is at most `cap` and at least
    /// `minimumDelay` (unless the ceiling itself is smaller).
    public func delay(afterAttempt attempt: Int, random: Double) -> Duration {
        let baseSeconds = base.seconds
        let capSeconds = cap.seconds
        // 2^1023 is the largest finite power: base·2^e may saturate to +infinity (then min() picks the cap) but never
        // becomes 0·infinity = NaN.
        let exponent = Double(min(max(attempt, 0), 1_023))
        let ceilingSeconds = max(0, min(capSeconds, baseSeconds * Self.power(of: 2, exponent)))
        let factor = random.isNaN ? 1 : min(max(random, 0), 1)
        let ceiling = min(Duration.seconds(ceilingSeconds), cap)
        let jittered = min(Duration.seconds(ceilingSeconds * factor), ceiling)
        return max(jittered, min(Self.minimumDelay, ceiling))
    }

    /// Whether `attempt` failed attempts use up the budget.
    public func isExhausted(attempt: Int) -> Bool {
        attempt >= maxAttempts
    }

    /// `base^exponent` by squaring, so the module needs no libm import.
    private static func power(of base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var factor = base
        var remaining = Int(exponent)
        while remaining > 0 {
            if remaining & 1 == 1 { result *= factor }
            factor *= factor
            remaining >>= 1
        }
        return result
    }
}
