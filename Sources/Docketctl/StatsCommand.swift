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
        let queue = try await OperatorConnections.withRedis(common) { connection, queue in try queue.stats(connection) }
        let (reviews, oldest, audit) = try await OperatorConnections.withPostgres(database) { connection in
            let store = ReviewStore()
            return (try store.countByStatus(on: connection), try store.oldestPendingReviewAge(on: connection),
                    try AuditLog().summary(on: connection))
        }
        if json {
            print(Self.json(queue: queue, reviews: reviews, oldest: oldest, audit: audit))
        } else {
            print(Self.text(queue: queue, reviews: reviews, oldest: oldest, audit: audit,
                            nowMilliseconds: Int(Date().timeIntervalSince1970 * 1000)))
        }
    }

    struct Report: Encodable {
        var backlog: Int
        var pending: Int
        var retrying: Int
        var dead: Int
        var reviews: [String: Int]
        var oldestPendingReviewSeconds: Double?
        var audit: Audit

        /// The audit trail (`webhook_log`): partitions, bytes on disk, and its oldest row (ISO 8601, null when empty).
        struct Audit: Encodable {
            var partitions: Int
            var bytes: Int
            var oldest: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(partitions, forKey: .partitions)
                try c.encode(bytes, forKey: .bytes)
                try c.encode(oldest, forKey: .oldest)
            }

            enum CodingKeys: String, CodingKey { case partitions, bytes, oldest }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(backlog, forKey: .backlog)
            try c.encode(pending, forKey: .pending)
            try c.encode(retrying, forKey: .retrying)
            try c.encode(dead, forKey: .dead)
            try c.encode(reviews, forKey: .reviews)
            // Always present, null when no review is pending.
            try c.encode(oldestPendingReviewSeconds, forKey: .oldestPendingReviewSeconds)
            try c.encode(audit, forKey: .audit)
        }

        enum CodingKeys: String, CodingKey {
            case backlog, pending, retrying, dead, reviews, oldestPendingReviewSeconds, audit
        }
    }

    static func json(queue: QueueStats, reviews: [ReviewStatus: Int], oldest: Double?, audit: AuditLog.Summary) -> String {
        var counts: [String: Int] = [:]
        for status in ReviewStatus.allCases { counts[status.rawValue] = reviews[status] ?? 0 }
        let report = Report(backlog: queue.backlog, pending: queue.pending, retrying: queue.retrying, dead: queue.dead,
                            reviews: counts, oldestPendingReviewSeconds: oldest.map { ($0 * 1000).rounded() / 1000 },
                            audit: Report.Audit(partitions: audit.partitions, bytes: audit.bytes,
                                                oldest: audit.oldest.map { $0.formatted(.iso8601) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(report) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
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
