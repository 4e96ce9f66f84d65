import Model
public import Redis

/// One entry of the dead stream, decoded for operators.
public struct DeadLetter: Sendable, Equatable {
    /// The fields the worker adds when it gives up on an event (docs/reference.md §8); everything else is the original
    /// event. Spelled here only: the dead-letter and replay scripts and `EventQueue.deadLetter` use these names.
    public enum Field: String, Sendable, CaseIterable {
        /// Why it was given up on.
        case error
        /// Attempts made, the last one included.
        case attempts
        /// When, Unix ms.
        case failedAt = "failed_at"
        /// The worker that gave up.
        case consumer
    }

    static let failureFields: Set<String> = Set(Field.allCases.map(\.rawValue))

    public var id: String
    public var webhookId: String?
    public var error: String
    public var attempts: Int
    /// Unix time in milliseconds.
    public var failedAtMilliseconds: Int
    public var consumer: String?
    /// The raw webhook body, verbatim.
    public var body: [UInt8]?
    /// Every field as stored, original ones first.
    public var entry: StreamEntry

    public init(entry: StreamEntry) {
        self.entry = entry
        id = entry.id
        webhookId = entry.string(EventEnvelope.Field.webhookId.rawValue)
        error = entry.string(Field.error.rawValue) ?? ""
        attempts = entry.string(Field.attempts.rawValue).flatMap { Int($0) } ?? 0
        failedAtMilliseconds = entry.string(Field.failedAt.rawValue).flatMap { Int($0) } ?? 0
        consumer = entry.string(Field.consumer.rawValue)
        body = entry.value(EventEnvelope.Field.body.rawValue)
    }
}

/// Operator access to the dead stream: list, show, replay, purge (docketctl dead ...).
extension EventQueue {
    /// Newest first, at most `limit`.
    public func deadLetters(_ connection: RedisConnection, limit: Int) throws -> [DeadLetter] {
        let reply = try connection.send("XREVRANGE", RedisArgument(keys.dead), "+", "-", "COUNT", RedisArgument(limit))
        return try StreamEntry.decodeList(reply).map(DeadLetter.init(entry:))
    }

    /// Every dead letter, oldest first, read in pages so a large dead stream does not arrive as one reply.
    public func allDeadLetters(_ connection: RedisConnection, pageSize: Int = 1000) throws -> [DeadLetter] {
        try Self.allEntries(of: keys.dead, connection, pageSize: pageSize).map(DeadLetter.init(entry:))
    }

    /// One dead letter by id, or nil.
    public func deadLetter(_ connection: RedisConnection, id: String) throws -> DeadLetter? {
        let reply = try connection.send("XRANGE", RedisArgument(keys.dead), RedisArgument(id), RedisArgument(id))
        return try StreamEntry.decodeList(reply).first.map(DeadLetter.init(entry:))
    }

    /// Moves one dead letter back onto the events stream with attempt 0, atomically; returns the new event id, or nil
    /// when it no longer exists (replayed or purged meanwhile).
    public func replay(_ connection: RedisConnection, deadLetterId: String) throws -> String? {
        let reply = try connection.evalScript(
            QueueScripts.replay, keys: [RedisArgument(keys.dead), RedisArgument(keys.events)],
            args: [RedisArgument(deadLetterId), RedisArgument(QueueKeys.group)])
        return reply.isNull ? nil : reply.string
    }

    /// Deletes dead letters; returns how many existed.
    @discardableResult
    public func purge(_ connection: RedisConnection, deadLetterIds: [String]) throws -> Int {
        guard !deadLetterIds.isEmpty else { return 0 }
        return try connection.send([RedisArgument("XDEL"), RedisArgument(keys.dead)] + deadLetterIds.map { RedisArgument($0) }).int ?? 0
    }
}
