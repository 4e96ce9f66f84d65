import ArgumentParser

/// `--delay-ms LOW-HIGH` (or a single number): how long the simulated agent takes before the verdict is sent.
struct DelayRange: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    var lowMilliseconds: Int
    var highMilliseconds: Int

    init(low: Int, high: Int) {
        self.lowMilliseconds = low
        self.highMilliseconds = high
    }

    init?(argument: String) {
        let parts = argument.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let low = parts.first.flatMap({ Int($0) }), low >= 0 else { return nil }
        let high = parts.count == 2 ? Int(parts[1]) : low
        guard let high, high >= low else { return nil }
        self.init(low: low, high: high)
    }

    var description: String {
        lowMilliseconds == highMilliseconds ? "\(lowMilliseconds)" : "\(lowMilliseconds)-\(highMilliseconds)"
    }

    /// A delay drawn uniformly from the range.
    func random() -> Duration {
        .milliseconds(Int.random(in: lowMilliseconds...highMilliseconds))
    }
}
