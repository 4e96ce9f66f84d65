import Durations
/// Capped exponential backoff with jitter for infrastructure reconnect loops (Redis or Postgres down).
///
/// The n-th delay is drawn uniformly from `[ceiling·(1 − jitter), ceiling]` where `ceiling = min(maximum, initial·2ⁿ)`,
/// so waiting processes spread out but never hammer a recovering server.
public struct Backoff: Sendable {
    /// The first delay's ceiling.
    public var initial: Duration
    /// The largest delay ever returned.
    public var maximum: Duration
    /// Fraction of each delay that is randomised, in 0...1.
    public var jitter: Double
    /// How many delays were handed out since the last `reset()`.
    public private(set) var attempt: Int = 0

    /// Creates a backoff; defaults suit reconnecting to a local service (100 ms doubling up to 10 s, half jittered).
    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = min(1, max(0, jitter))
    }

    /// The next delay to wait before retrying; grows until `maximum`.
    public mutating func next() -> Duration {
        next(random: Double.random(in: 0...1))
    }

    /// The next delay with the random draw supplied (0...1), for tests.
    mutating func next(random: Double) -> Duration {
        let initialSeconds = initial.seconds
        let maximumSeconds = maximum.seconds
        // Past 2^62 the ceiling is the maximum anyway; clamping the exponent avoids overflow.
        let factor = Double(Int64(1) << Int64(min(attempt, 62)))
        let ceiling = min(maximumSeconds, initialSeconds * factor)
        attempt += 1
        let delay = ceiling * (1 - jitter * min(1, max(0, random)))
        return .nanoseconds(Int64((delay * 1e9).rounded()))
    }

    /// Starts again from `initial`, after a successful connection.
    public mutating func reset() {
        attempt = 0
    }
}
