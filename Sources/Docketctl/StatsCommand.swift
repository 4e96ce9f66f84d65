import ArgumentParser
import Foundation
import Model
import Queue
import Runtime
import Store

/// `docketctl stats`: the numbers an on-call person needs first (docs/reference.md §1, §12).
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show backlog, pending, retrying and dead events, reviews by status, the oldest pending review, and the audit trail's size.",
        discussion: """
            Examples:
              docketctl stats
              docketctl stats --json | jq .backlog
            """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print {backlog, pending, retrying, dead, reviews: {STATUS: count}, oldestPendingReviewSeconds, audit: {partitions, bytes, oldest}}.")
    var json = false

    func run() async throws {
        // One reading per partition; the totals are their sum, so the two never disagree.
        let (queue, partitions) = try await OperatorConnections.withQueue(common) { queue in
            let each = try await queue.perPartitionStats()
            return (PartitionedQueue.total(each), queue.partitioning.count > 1 ? each : [])
        }
        let store = try await OperatorConnections.withStore(database) { store in try await store.overview() }
        let (reviews, oldest, audit) = (store.reviews, store.oldestPendingReviewSeconds, store.audit)
        if json {
            var report = StatsReport(queue: queue, store: store)
            if !partitions.isEmpty { report.partitions = partitions.map(StatsReport.Partition.init) }
            print(report.json())
        } else {
            print(Self.text(queue: queue, reviews: reviews, oldest: oldest, audit: audit,
                            nowMilliseconds: Int(Date().timeIntervalSince1970 * 1000)))
            if !partitions.isEmpty {
                print("partitions (backlog / pending / retrying / dead)")
                for (index, stats) in partitions.enumerated() {
                    print("  \(index)  \(stats.backlog) / \(stats.pending) / \(stats.retrying) / \(stats.dead)")
                }
            }
        }
    }

    static func text(
        queue: QueueStats, reviews: [ReviewStatus: Int], oldest: Double?, audit: AuditLog.Summary, nowMilliseconds: Int
    ) -> String {
        var lines: [String] = []
        lines.append("events")
        lines.append("  backlog    \(queue.backlog)   (accepted, not yet applied)")
        lines.append("  pending    \(queue.pending)   (delivered to a worker, not yet acknowledged)")
        var retrying = "  retrying   \(queue.retrying)"
        if let due = queue.nextRetryDueMilliseconds {
            let seconds = max(0, due - nowMilliseconds) / 1000
            retrying += "   (next due in \(seconds)s)"
        }
        lines.append(retrying)
        lines.append("  dead       \(queue.dead)" + (queue.dead > 0 ? "   (see: docketctl dead list)" : ""))
        if !queue.consumers.isEmpty {
            lines.append("consumers")
            for consumer in queue.consumers.sorted(by: { $0.name < $1.name }) {
                lines.append("  \(consumer.name)  pending \(consumer.pending), idle \(consumer.idleMilliseconds / 1000)s")
            }
        }
        lines.append("reviews")
        for status in ReviewStatus.allCases {
            lines.append("  \(status.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(reviews[status] ?? 0)")
        }
        if let oldest {
            lines.append("oldest pending review: \(Int(oldest))s")
        } else {
            lines.append("oldest pending review: none")
        }
        let megabytes = Double(audit.bytes) / 1_048_576
        var trail = "audit trail: \(audit.partitions) partitions, \((megabytes * 10).rounded() / 10) MB"
        if let oldestRow = audit.oldest {
            let days = Double(nowMilliseconds - Int(oldestRow.timeIntervalSince1970 * 1000)) / 86_400_000
            trail += ", oldest entry \(oldestRow.formatted(.iso8601)) (\((days * 10).rounded() / 10) days ago)"
        } else {
            trail += ", empty"
        }
        lines.append(trail)
        return lines.joined(separator: "\n")
    }
}
