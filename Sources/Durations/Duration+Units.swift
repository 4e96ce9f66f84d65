/// `Duration` in the units the C libraries, metrics and SQL want, in one place: no hand-made attosecond arithmetic
/// elsewhere. Conversions saturate at the bounds of the result type instead of trapping.
extension Duration {
    /// The duration in seconds, with its fraction.
    public var seconds: Double {
        self / .seconds(1)
    }

    /// Whole milliseconds, rounded toward negative infinity (`.down`) or positive infinity (`.up`, so that a wait is
    /// never shorter than asked).
    public func milliseconds(rounded rule: FloatingPointRoundingRule = .down) -> Int {
        Self.saturating((self / .milliseconds(1)).rounded(rule))
    }

    /// Whole microseconds, rounded down.
    public var microseconds: Int {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? Int.min : Int.max }
        return Int(clamping: whole) &+ Int(attoseconds / 1_000_000_000_000)
    }

    /// Whole nanoseconds, rounded toward zero (metrics' `recordNanoseconds`).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return whole &+ attoseconds / 1_000_000_000
    }

    private static func saturating(_ value: Double) -> Int {
        if value.isNaN { return 0 }
        if value >= 9.2e18 { return Int.max }
        if value <= -9.2e18 { return Int.min }
        return Int(value)
    }
}
