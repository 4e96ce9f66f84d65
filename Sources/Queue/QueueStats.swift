public import Redis

/// The queue's numbers an on-call person needs first.
public struct QueueStats: Sendable, Equatable {
    /// Entries in the events stream (accepted, not yet applied).
    public var backlog: Int
    /// Entries delivered to a worker and not yet acknowledged.
    public var pending: Int
    /// Events waiting in the retry set.
    public var retrying: Int
    /// Due time (Unix ms) of the next retry, if any.
    public var nextRetryDueMilliseconds: Int?
    /// Entries in the dead stream.
    public var dead: Int
    /// Consumers of the group with their pending count and idle time.
    public var consumers: [Consumer]

    public init(
        backlog: Int, pending: Int, retrying: Int, nextRetryDueMilliseconds: Int?, dead: Int, consumers: [Consumer]
    ) {
        self.backlog = backlog
        self.pending = pending
        self.retrying = retrying
        self.nextRetryDueMilliseconds = nextRetryDueMilliseconds
        self.dead = dead
        self.consumers = consumers
    }

    public struct Consumer: Sendable, Equatable {
        public var name: String
        public var pending: Int
        public var idleMilliseconds: Int

        public init(name: String, pending: Int, idleMilliseconds: Int) {
            self.name = name
            self.pending = pending
            self.idleMilliseconds = idleMilliseconds
        }
    }
}

extension EventQueue {
    /// Reads backlog, pending, retrying, dead and the consumers in one pipeline.
    public func stats(_ connection: RedisConnection) throws -> QueueStats {
        let replies = try connection.pipeline([
            ["XLEN", RedisArgument(keys.events)],
            ["XPENDING", RedisArgument(keys.events), RedisArgument(QueueKeys.group)],
            ["ZCARD", RedisArgument(keys.retry)],
            ["ZRANGE", RedisArgument(keys.retry), "0", "0", "WITHSCORES"],
            ["XLEN", RedisArgument(keys.dead)],
            ["XINFO", "CONSUMERS", RedisArgument(keys.events), RedisArgument(QueueKeys.group)],
        ])
        // A missing stream or group (nothing ever enqueued) reads as zero, not as an error; any other error reply (a
        // cluster redirect while a slot moves, a key of the wrong type) is thrown, so a cluster client follows it and
        // nobody reads a partition in motion as empty.
        for case .error(let message) in replies where !(message.hasPrefix("NOGROUP") || message.hasPrefix("ERR ")) {
            throw RedisError(code: .server, message: message)
        }
        let pending = replies[1].array?.first?.int ?? 0
        var consumers: [QueueStats.Consumer] = []
        for item in replies[5].array ?? [] {
            let fields = Self.infoFields(item)
            consumers.append(.init(
                name: fields["name"]?.string ?? "", pending: fields["pending"]?.int ?? 0,
                idleMilliseconds: fields["idle"]?.int ?? 0))
        }
        let nextDue = replies[3].array.flatMap { $0.count == 2 ? $0[1].string.flatMap { Double($0) }.map { Int($0) } : nil }
        return QueueStats(
            backlog: replies[0].int ?? 0, pending: pending, retrying: replies[2].int ?? 0,
            nextRetryDueMilliseconds: nextDue, dead: replies[4].int ?? 0, consumers: consumers)
    }
}

/// Monotonic counts of the streams, for rates (XINFO STREAM `entries-added`; 0 for a stream that does not exist).
public struct QueueCounters: Sendable, Equatable {
    /// Webhooks accepted onto the events stream, replays and retries included.
    public var eventsAdded: Int
    /// Entries moved to the dead stream.
    public var deadAdded: Int

    public init(eventsAdded: Int, deadAdded: Int) {
        self.eventsAdded = eventsAdded
        self.deadAdded = deadAdded
    }
}

extension EventQueue {
    /// The streams' `entries-added` counters.
    public func counters(_ connection: RedisConnection) throws -> QueueCounters {
        func added(_ key: String) throws -> Int {
            do {
                let reply = try connection.send("XINFO", "STREAM", RedisArgument(key))
                return Self.infoFields(reply)["entries-added"]?.int ?? 0
            } catch let error as RedisError where error.serverErrorPrefix == "ERR" {
                return 0  // no such key: nothing was ever added
            }
        }
        return QueueCounters(eventsAdded: try added(keys.events), deadAdded: try added(keys.dead))
    }
}
