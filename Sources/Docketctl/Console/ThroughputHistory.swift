import Foundation
import Queue
import Store
import Synchronization

/// The last 15 minutes of the pipeline's counters, sampled every few seconds, for the overview's graphs: the console's
/// only state besides logged-out sessions. Rates come from consecutive samples of monotonic counters, so a console
/// started a minute ago shows a minute of history, and a counter that could not be read leaves a gap.
final class ThroughputHistory: Sendable {
    struct Sample: Sendable {
        /// Unix seconds.
        var at: Double
        var eventsAdded: Int?
        var deadAdded: Int?
        var applied: Int?
    }

    /// One graph's points: (Unix seconds, per second).
    struct Series: Sendable {
        var name: String
        var points: [(at: Double, rate: Double)]

        var latest: Double? { points.last?.rate }
    }

    static let window: Double = 15 * 60

    let interval: Duration
    private let samples = Mutex<[Sample]>([])

    init(interval: Duration = .seconds(5)) {
        self.interval = interval
    }

    func record(_ sample: Sample) {
        samples.withLock { samples in
            samples.append(sample)
            samples.removeAll { $0.at < sample.at - Self.window - 60 }
        }
    }

    /// Events added to the stream, verdicts applied, entries dead-lettered: per second, over the window before `now`.
    func series(now: Double) -> [Series] {
        let samples = self.samples.withLock { $0 }.filter { $0.at >= now - Self.window - 60 }
        return [
            Series(name: "events added", points: Self.rates(samples, \.eventsAdded, from: now - Self.window)),
            Series(name: "verdicts applied", points: Self.rates(samples, \.applied, from: now - Self.window)),
            Series(name: "dead-lettered", points: Self.rates(samples, \.deadAdded, from: now - Self.window)),
        ]
    }

    static func rates(_ samples: [Sample], _ counter: KeyPath<Sample, Int?>, from start: Double) -> [(at: Double, rate: Double)] {
        var points: [(at: Double, rate: Double)] = []
        for (earlier, later) in zip(samples, samples.dropFirst()) where later.at >= start {
            // A reset (stream recreated, statistics reset, partition dropped) reads as a drop: no point, not a negative rate.
            guard let first = earlier[keyPath: counter], let second = later[keyPath: counter], second >= first,
                  later.at > earlier.at else { continue }
            points.append((later.at, Double(second - first) / (later.at - earlier.at)))
        }
        return points
    }

    /// Takes a sample now and then every `interval` until the task is cancelled.
    func run(queue: PartitionedQueue, store: StoreClient) async {
        while !Task.isCancelled {
            let counters = try? await queue.counters()
            let applied = try? await store.appliedVerdictsCounter()
            record(Sample(at: Date().timeIntervalSince1970, eventsAdded: counters?.eventsAdded,
                          deadAdded: counters?.deadAdded, applied: applied))
            try? await Task.sleep(for: interval)
        }
    }
}

/// A small line graph drawn on the server: no script, no library.
enum Sparkline {
    static let width = 320.0
    static let height = 64.0

    static func svg(_ series: ThroughputHistory.Series, now: Double, window: Double) -> HTML {
        let peak = series.points.map(\.rate).max()
        let top = max(peak ?? 0, 1)
        let coordinates = series.points.map { point -> String in
            let x = (point.at - (now - window)) / window * width
            let y = height - point.rate / top * (height - 4) - 2
            return "\(format(x)),\(format(y))"
        }
        let latest = series.latest.map { "\(format($0))/s" } ?? "no data yet"
        let peakText = peak.map { "\(format($0))/s" } ?? "—"
        let label = "\(series.name): \(latest), peak \(peakText) over the last \(Int(window / 60)) minutes"
        let line: HTML = coordinates.count > 1
            ? "<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"1.5\" points=\"\(coordinates.joined(separator: " "))\"/>"
            : ""
        return """
            <figure class="graph"><figcaption>\(series.name) <strong>\(latest)</strong> <small>peak \(peakText)</small></figcaption>\
            <svg viewBox="0 0 \(format(width)) \(format(height))" width="\(Int(width))" height="\(Int(height))" role="img" aria-label="\(label)">\
            <rect x="0" y="0" width="\(format(width))" height="\(format(height))" fill="#f8fafc" stroke="#cbd5e1"/>\(line)</svg></figure>
            """
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value || abs(value) >= 100 ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }
}
