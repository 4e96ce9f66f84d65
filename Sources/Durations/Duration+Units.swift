/// `Duration` in the units the C libraries, metrics and SQL want, in one place: no hand-made attosecond arithmetic
/// elsewhere. Conversions saturate at the bounds of the result type instead of trapping.
extension Duration {
    /// The duration in seconds, with its fraction.
    public var seconds: Double {
        self / .seconds(1)
    }

    /// Which way a conversion to whole units rounds.
    public enum Rounding: Sendable {
        /// Toward negative infinity.
        case down
        /// Toward positive infinity, so that a wait is never shorter than asked.
        case up
    }

    /// Whole milliseconds, rounded `down` or `up`, in exact integer arithmetic.
    public func milliseconds(rounded rule: Rounding = .down) -> Int {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        var whole = attoseconds / perMillisecond
        let rest = attoseconds % perMillisecond
        if rule == .down && rest < 0 { whole -= 1 }
        if rule == .up && rest > 0 { whole += 1 }
        return Self.saturating(seconds, times: 1_000, plus: whole)
    }

    /// Whole microseconds, rounded toward zero.
    public var microseconds: Int {
        let (seconds, attoseconds) = components
        return Self.saturating(seconds, times: 1_000_000, plus: attoseconds / 1_000_000_000_000)
    }

    /// Whole nanoseconds, rounded toward zero (metrics' `recordNanoseconds`).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return Int64(Self.saturating(seconds, times: 1_000_000_000, plus: attoseconds / 1_000_000_000))
    }

    /// `seconds × scale + extra`, saturating at Int's bounds instead of trapping.
    private static func saturating(_ seconds: Int64, times scale: Int64, plus extra: Int64) -> Int {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: scale)
        if overflow { return seconds < 0 ? Int.min : Int.max }
        let (sum, sumOverflow) = product.addingReportingOverflow(extra)
        if sumOverflow { return extra < 0 ? Int.min : Int.max }
        return Int(sum)
    }
}
