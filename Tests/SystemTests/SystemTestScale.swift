import Foundation

/// How many documents the system tests push through: a base count times `DOCKET_TEST_SCALE` (default 1).
///
/// At scale 1 the flow test runs 500 documents and the fault test the 5,000 (about 5 s and 35 s on two cores
/// with debug builds); `DOCKET_TEST_SCALE=0.2` runs a fifth of them for a quicker CI, larger values stress more.
/// Throughput and latency figures belong to `ops/bench/e2e`, not to the suite.
enum SystemTestScale {
    /// The multiplier from the environment; unparsable or non-positive values fall back to 1.
    static var factor: Double {
        guard let text = ProcessInfo.processInfo.environment["DOCKET_TEST_SCALE"], let value = Double(text), value > 0 else {
            return 1
        }
        return value
    }

    /// `base × factor`, rounded, at least `minimum` so every test keeps enough traffic to mean something.
    static func count(_ base: Int, minimum: Int = 10) -> Int {
        max(minimum, Int((Double(base) * factor).rounded()))
    }
}
