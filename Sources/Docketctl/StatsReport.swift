import Foundation
import Model
import Queue
import Store

/// The figures of `docketctl stats --json`, and of the console's `GET /api/overview`, which adds the consumers, the
/// next retry and the rates under names of their own (docs/reference.md §1, §13). Keys are sorted; the fields of
/// `stats --json` are always present (null when there is no value).
struct StatsReport: Encodable {
    var backlog: Int
    var pending: Int
    var retrying: Int
    var dead: Int
    var reviews: [String: Int]
    var oldestPendingReviewSeconds: Double?
    var audit: Audit
    /// Console only: entries not yet delivered to any worker (null when Redis cannot tell).
    var lag: Int??
    /// With several partitions: each one's figures (absent with one).
    var partitions: [Partition]?
    /// Console only: the group's consumers.
    var consumers: [Consumer]?
    /// Console only: the next retry's due time, Unix ms (null when none; absent from `stats --json`).
    var nextRetryDueMilliseconds: Int??
    /// Console only: events added, verdicts applied and entries dead-lettered per second, latest sample.
    var rates: Rates?

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

    struct Partition: Encodable {
        var backlog: Int
        var pending: Int
        var retrying: Int
        var dead: Int

        init(_ stats: QueueStats) {
            backlog = stats.backlog
            pending = stats.pending
            retrying = stats.retrying
            dead = stats.dead
        }
    }

    struct Consumer: Encodable {
        var name: String
        var pending: Int
        var idleMilliseconds: Int
    }

    struct Rates: Encodable {
        var eventsAdded: Double?
        var verdictsApplied: Double?
        var deadLettered: Double?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(eventsAdded, forKey: .eventsAdded)
            try c.encode(verdictsApplied, forKey: .verdictsApplied)
            try c.encode(deadLettered, forKey: .deadLettered)
        }

        enum CodingKeys: String, CodingKey { case eventsAdded, verdictsApplied, deadLettered }
    }

    init(queue: QueueStats, store: StoreOverview) {
        backlog = queue.backlog
        pending = queue.pending
        retrying = queue.retrying
        dead = queue.dead
        var counts: [String: Int] = [:]
        for status in ReviewStatus.allCases { counts[status.rawValue] = store.reviews[status] ?? 0 }
        reviews = counts
        oldestPendingReviewSeconds = store.oldestPendingReviewSeconds.map { ($0 * 1000).rounded() / 1000 }
        audit = Audit(partitions: store.audit.partitions, bytes: store.audit.bytes,
                      oldest: store.audit.oldest.map { $0.formatted(.iso8601) })
    }

    /// With the console's fields.
    init(queue: QueueStats, store: StoreOverview, rates: Rates) {
        self.init(queue: queue, store: store)
        consumers = queue.consumers.sorted { $0.name < $1.name }
            .map { Consumer(name: $0.name, pending: $0.pending, idleMilliseconds: $0.idleMilliseconds) }
        nextRetryDueMilliseconds = .some(queue.nextRetryDueMilliseconds)
        self.rates = rates
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
        if let lag { try c.encode(lag, forKey: .lag) }
        try c.encodeIfPresent(partitions, forKey: .partitions)
        try c.encodeIfPresent(consumers, forKey: .consumers)
        if let nextRetryDueMilliseconds { try c.encode(nextRetryDueMilliseconds, forKey: .nextRetryDueMilliseconds) }
        try c.encodeIfPresent(rates, forKey: .rates)
    }

    enum CodingKeys: String, CodingKey {
        case backlog, pending, retrying, dead, reviews, oldestPendingReviewSeconds, audit, lag, partitions, consumers, nextRetryDueMilliseconds, rates
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
