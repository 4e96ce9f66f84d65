import Foundation
import TestSupport
import Testing

/// `ops/prometheus`: promtool accepts the scrape configuration and the alert rules, the rules' unit tests pass, every
/// alert carries what an operator needs, and every metric a rule names is one our processes export.
@Suite struct PrometheusRulesTests {
    static let rules = OpsDirectory.path("prometheus/docket-alerts.yml")

    static func promtool() throws -> String {
        let candidates = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError(.binaryNotFound, "promtool is not installed: ops/test installs it (apt-get install prometheus)")
        }
        return found
    }

    @Test(arguments: [
        ["check", "rules", "docket-alerts.yml"],
        ["check", "config", "prometheus.yml"],
        ["test", "rules", "docket-alerts.test.yml"],
    ])
    func promtoolAccepts(_ arguments: [String]) throws {
        // promtool resolves rule_files relative to the file, but the test file's arguments relative to the cwd.
        var arguments = arguments
        arguments[2] = OpsDirectory.path("prometheus/\(arguments[2])")
        let result = try ChildProcess.run(product: try Self.promtool(), arguments: arguments)
        #expect(result.status == 0, "promtool \(arguments.joined(separator: " ")):\n\(result.stdout)\(result.stderr)")
    }

    @Test func everyAlertHasForSeverityAndSummary() throws {
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let alerts = text.components(separatedBy: "\n      - alert: ").dropFirst()
        #expect(alerts.count >= 5)
        for alert in alerts {
            let name = alert.prefix { !$0.isNewline }
            #expect(alert.contains("\n        expr: "), "\(name) has no expr")
            #expect(alert.contains("\n        for: "), "\(name) has no for")
            #expect(alert.contains("\n          severity: warning") || alert.contains("\n          severity: critical"),
                    "\(name) has no severity label (warning or critical)")
            #expect(alert.contains("\n          summary: "), "\(name) has no summary annotation")
        }
    }

    @Test func everyMetricARuleNamesIsExported() throws {
        let rules = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let referenced = Set(Self.metricNames(in: rules))
        #expect(!referenced.isEmpty)
        let exported = try Self.exportedMetricNames()
        for name in referenced.sorted() {
            // Histograms (swift-metrics Timer/Recorder) appear as name_bucket, name_sum and name_count.
            var base = name
            for suffix in ["_bucket", "_sum", "_count"] where base.hasSuffix(suffix) && !exported.contains(base) {
                base = String(base.dropLast(suffix.count))
            }
            #expect(exported.contains(base), "\(name) is not a metric label in Sources/")
        }
    }

    /// `docket_...` identifiers in a text (a metric name cannot contain '-', so file names like docket-alerts never match).
    static func metricNames(in text: String) -> [String] {
        var names: [String] = []
        var current = ""
        for character in text + " " {
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
            } else {
                if current.hasPrefix("docket_") && current.count > "docket_".count { names.append(current) }
                current = ""
            }
        }
        return names
    }

    /// Metric labels given to swift-metrics in Sources/: `Counter(label: "docket_...")` and friends.
    static func exportedMetricNames() throws -> Set<String> {
        let sources = OpsDirectory.root.deletingLastPathComponent().appendingPathComponent("Sources")
        guard let files = FileManager.default.enumerator(atPath: sources.path) else {
            throw TestSupportError(.commandFailed, "cannot list \(sources.path)")
        }
        var names: Set<String> = []
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for line in text.split(whereSeparator: \.isNewline) where line.contains("label: \"docket_") {
                names.formUnion(metricNames(in: String(line)).filter { line.contains("label: \"\($0)\"") })
            }
        }
        return names
    }
}
