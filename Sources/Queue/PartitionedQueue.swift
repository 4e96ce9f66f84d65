/// Every partition of the queue, for operators (docketctl and its console; docs/reference.md §8): figures summed,
/// dead letters merged newest first, each dead letter replayed or purged in its own partition. With one partition it
/// is that partition's `QueueClient`, ids and all; with several, a dead letter's id is qualified by its partition
/// (`3-1700000000000-0`: partition, then the entry id), since two streams can hold the same entry id.
public final class PartitionedQueue: Sendable {
    public let partitioning: Partitioning
    public let partitions: [QueueClient]
    public let redactedURL: String

    /// Throws `InvalidQueueURL` for a URL that is not `redis://host:port/db`.
    public convenience init(url: String, partitioning: Partitioning) throws(InvalidQueueURL) {
        self.init(endpoint: try QueueEndpoint(url: url, cluster: false), partitioning: partitioning)
    }

    /// A client per partition, on one server or a cluster.
    public init(endpoint: QueueEndpoint, partitioning: Partitioning) {
        self.partitioning = partitioning
        partitions = partitioning.allKeys.map { QueueClient(endpoint: endpoint, keys: $0) }
        redactedURL = endpoint.redactedURL
    }

    public func shutdown() {
        for client in partitions { client.shutdown() }
    }

    /// A dead letter's id as operators see it: the entry id, prefixed by its partition when there are several.
    public func qualifiedId(_ id: String, partition: Int) -> String {
        partitioning.count == 1 ? id : "\(partition)-\(id)"
    }

    /// Reads an operator's id: `P-ms-seq`, or a bare `ms-seq` (looked for in every partition). Nil when the text is
    /// not such an id, or names a partition that does not exist.
    public func parseId(_ text: String) -> (partition: Int?, entryId: String)? {
        guard let (partition, entryId) = Self.idParts(text) else { return nil }
        if let partition, !(0..<partitioning.count).contains(partition) { return nil }
        return (partition, entryId)
    }

    /// The shape of an operator's id alone, whatever the partition count: `ms-seq` or `P-ms-seq`, decimal numbers.
    public static func idParts(_ text: String) -> (partition: Int?, entryId: String)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } && UInt64($0) != nil }) else {
            return nil
        }
        switch parts.count {
        case 2:
            return (nil, text)
        case 3:
            guard let partition = Int(parts[0]) else { return nil }
            return (partition, "\(parts[1])-\(parts[2])")
        default:
            return nil
        }
    }

    // MARK: - Figures

    /// Every partition's stats, summed (`total`).
    public func stats() async throws -> QueueStats {
        Self.total(try await perPartitionStats())
    }

    /// Each partition's stats, in partition order.
    public func perPartitionStats() async throws -> [QueueStats] {
        var all: [QueueStats] = []
        for client in partitions { all.append(try await client.stats()) }
        return all
    }

    /// The group's lag summed over partitions; nil when Redis cannot tell for one of them.
    public func groupLag() async throws -> Int? {
        var total = 0
        for client in partitions {
            guard let lag = try await client.groupLag() else { return nil }
            total += lag
        }
        return total
    }

    /// The streams' counters summed.
    public func counters() async throws -> QueueCounters {
        var total = QueueCounters(eventsAdded: 0, deadAdded: 0)
        for client in partitions {
            let counters = try await client.counters()
            total.eventsAdded += counters.eventsAdded
            total.deadAdded += counters.deadAdded
        }
        return total
    }

    // MARK: - Dead letters

    /// A dead letter with the partition it lives in.
    public struct Located: Sendable, Equatable {
        public var partition: Int
        public var letter: DeadLetter
        /// The id operators use (`qualifiedId`).
        public var id: String
    }

    private func located(_ letter: DeadLetter, _ partition: Int) -> Located {
        Located(partition: partition, letter: letter, id: qualifiedId(letter.id, partition: partition))
    }

    /// Newest first over every partition (by entry id, then partition), at most `limit`.
    public func deadLetters(limit: Int) async throws -> [Located] {
        var all: [Located] = []
        for (index, client) in partitions.enumerated() {
            all += try await client.deadLetters(limit: limit).map { located($0, index) }
        }
        return Array(all.sorted(by: Self.newestFirst).prefix(limit))
    }

    /// Every dead letter matching `filter`, oldest first.
    public func deadLetters(matching filter: DeadLetterFilter) async throws -> [Located] {
        var all: [Located] = []
        for (index, client) in partitions.enumerated() {
            all += try await client.deadLetters(matching: filter).map { located($0, index) }
        }
        return all.sorted { Self.newestFirst($1, $0) }
    }

    /// One page, newest first, of matching dead letters that come after `cursor` (a `Located.id`) in that order.
    public func deadLetterPage(filter: DeadLetterFilter, after cursor: String?, limit: Int) async throws -> (letters: [Located], next: String?) {
        let bound = cursor.flatMap(parseId)
        var all: [Located] = []
        for (index, client) in partitions.enumerated() {
            var before = bound?.entryId
            // Same entry id in a lower partition still comes after the cursor (ties go to the higher partition first).
            if let bound, let cursorPartition = bound.partition, index < cursorPartition, let id = before {
                before = Self.successor(of: id)  // nil: the largest id, so no bound at all
            }
            let page = try await client.deadLetterPage(filter: filter, before: before, limit: limit + 1)
            all += page.letters.map { located($0, index) }
        }
        let sorted = all.sorted(by: Self.newestFirst)
        let letters = Array(sorted.prefix(limit))
        return (letters, sorted.count > limit ? letters.last?.id : nil)
    }

    /// One dead letter by operator id; nil when none has it. Throws `AmbiguousDeadLetterId` for a bare id that more
    /// than one partition holds.
    public func deadLetter(id: String) async throws -> Located? {
        guard let (partition, entryId) = parseId(id) else { return nil }
        if let partition {
            return try await partitions[partition].deadLetter(id: entryId).map { located($0, partition) }
        }
        var found: [Located] = []
        for (index, client) in partitions.enumerated() {
            if let letter = try await client.deadLetter(id: entryId) { found.append(located(letter, index)) }
        }
        if found.count > 1 { throw AmbiguousDeadLetterId(id: id, candidates: found.map(\.id)) }
        return found.first
    }

    /// Replays a dead letter into its own partition's events stream; the new event id, or nil when it is gone.
    public func replay(_ letter: Located) async throws -> String? {
        try await partitions[letter.partition].replay(deadLetterId: letter.letter.id)
    }

    /// Deletes a dead letter; whether it existed.
    public func purge(_ letter: Located) async throws -> Bool {
        try await partitions[letter.partition].purge(deadLetterIds: [letter.letter.id]) == 1
    }

    /// Whether `letter` is `id` or older (in `newestFirst` order): what a confirmation that showed up to `id` covers.
    public func isAtOrBefore(_ letter: Located, _ id: String) -> Bool {
        guard let (partition, entryId) = parseId(id) else { return false }
        let (x, y) = (Self.order(letter.letter.id), Self.order(entryId))
        return x != y ? x < y : letter.partition <= (partition ?? 0)
    }

    /// Newest first: by entry id (time, then sequence), ties by the higher partition.
    static func newestFirst(_ a: Located, _ b: Located) -> Bool {
        let (x, y) = (order(a.letter.id), order(b.letter.id))
        return x != y ? x > y : a.partition > b.partition
    }

    static func order(_ id: String) -> (UInt64, UInt64) {
        let parts = id.split(separator: "-")
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return (0, 0) }
        return (ms, seq)
    }

    /// The smallest entry id after `id`, so that "before successor" includes `id` itself; nil for the largest id.
    static func successor(of id: String) -> String? {
        let (ms, seq) = order(id)
        if seq < .max { return "\(ms)-\(seq + 1)" }
        return ms < .max ? "\(ms + 1)-0" : nil
    }

    /// Figures summed over partitions; consumers merged by name (pending summed, the shortest idle time).
    public static func total(_ each: [QueueStats]) -> QueueStats {
        var total = QueueStats(backlog: 0, pending: 0, retrying: 0, nextRetryDueMilliseconds: nil, dead: 0, consumers: [])
        var consumers: [String: QueueStats.Consumer] = [:]
        for stats in each {
            total.backlog += stats.backlog
            total.pending += stats.pending
            total.retrying += stats.retrying
            total.dead += stats.dead
            if let due = stats.nextRetryDueMilliseconds {
                total.nextRetryDueMilliseconds = min(total.nextRetryDueMilliseconds ?? due, due)
            }
            for consumer in stats.consumers {
                if var known = consumers[consumer.name] {
                    known.pending += consumer.pending
                    known.idleMilliseconds = min(known.idleMilliseconds, consumer.idleMilliseconds)
                    consumers[consumer.name] = known
                } else {
                    consumers[consumer.name] = consumer
                }
            }
        }
        total.consumers = consumers.values.sorted { $0.name < $1.name }
        return total
    }
}

/// A bare dead letter id that several partitions hold: the operator must say which.
public struct AmbiguousDeadLetterId: Error, CustomStringConvertible, Sendable {
    public let id: String
    public let candidates: [String]

    public var description: String {
        "dead letter id \(id) is in several partitions: give one of \(candidates.joined(separator: ", "))"
    }
}
