public import Model
public import Redis

/// Redis Streams semantics for Docket's events: enqueue with dedupe, consume through the `workers` group,
/// acknowledge, retry later, dead-letter, reclaim, and replay (docs/reference.md §8; docs/architecture.md,
/// "The guarantees and where each is kept").
///
/// Calls take a `RedisConnection` and run on the thread that owns it (`RedisClient.withConnection`). The gateway's
/// enqueue is the same script written by `EnqueueCommand` on its event loops' connections.
public struct EventQueue: Sendable {
    public let keys: QueueKeys

    public init(keys: QueueKeys) {
        self.keys = keys
    }

    public init(prefix: String) {
        self.init(keys: QueueKeys(prefix: prefix))
    }

    // MARK: - Gateway

    /// Adds an event unless its webhook id was seen within `dedupeTTLSeconds` or the backlog is at `maxBacklog`.
    /// Returns only after Redis answered: `.accepted` means the entry is in the stream.
    public func enqueue(
        _ envelope: EventEnvelope, dedupeTTLSeconds: Int, maxBacklog: Int, on connection: RedisConnection
    ) throws -> EnqueueOutcome {
        let reply = try connection.evalScript(
            QueueScripts.enqueue,
            keys: [RedisArgument(keys.events), RedisArgument(keys.seen(envelope.webhookId))],
            args: enqueueArguments(envelope, dedupeTTLSeconds: dedupeTTLSeconds, maxBacklog: maxBacklog)
        )
        return try Self.outcome(reply)
    }

    func enqueueArguments(_ envelope: EventEnvelope, dedupeTTLSeconds: Int, maxBacklog: Int) -> [RedisArgument] {
        var args: [RedisArgument] = [RedisArgument(dedupeTTLSeconds), RedisArgument(maxBacklog), RedisArgument(QueueKeys.group)]
        for field in envelope.fields {
            args.append(RedisArgument(field.name))
            args.append(RedisArgument(bytes: field.value))
        }
        return args
    }

    /// The enqueue script's answer: `{'accepted', id}`, `{'duplicate'}` or `{'backlog'}`.
    static func outcome(_ reply: RESPValue) throws(RedisError) -> EnqueueOutcome {
        guard let parts = reply.array, let verdict = parts.first?.string else {
            throw RedisError.unexpected("an enqueue outcome", reply)
        }
        switch verdict {
        case "accepted":
            guard parts.count == 2, let id = parts[1].string else { throw RedisError.unexpected("an entry id", reply) }
            return .accepted(entryId: id)
        case "duplicate": return .duplicate
        case "backlog": return .overBacklog
        default: throw RedisError.unexpected("accepted, duplicate or backlog", reply)
        }
    }

    // MARK: - Consumers

    /// Creates the `workers` group at id 0 (and the stream) when missing; an existing group is left alone.
    public func ensureGroup(_ connection: RedisConnection) throws {
        do {
            try connection.send("XGROUP", "CREATE", RedisArgument(keys.events), RedisArgument(QueueKeys.group), "0", "MKSTREAM")
        } catch let error as RedisError where error.serverErrorPrefix == "BUSYGROUP" {
            return
        }
    }

    /// Reads up to `count` entries for `consumer`: its own pending entries when `pending` is true, otherwise new ones,
    /// blocking up to `blockMilliseconds` (0 = don't block). Re-creates the group if Redis lost it (NOGROUP).
    public func read(
        _ connection: RedisConnection, consumer: String, count: Int, blockMilliseconds: Int, pending: Bool
    ) throws -> [StreamEntry] {
        var command: [RedisArgument] = ["XREADGROUP", "GROUP", RedisArgument(QueueKeys.group), RedisArgument(consumer),
                                        "COUNT", RedisArgument(count)]
        if !pending && blockMilliseconds > 0 {
            command += ["BLOCK", RedisArgument(blockMilliseconds)]
        }
        command += ["STREAMS", RedisArgument(keys.events), pending ? "0" : ">"]
        let reply: RESPValue
        do {
            reply = try connection.send(command)
        } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
            try ensureGroup(connection)
            reply = try connection.send(command)
        }
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else {
            if reply.isNull { return [] }
            throw RedisError.unexpected("an XREADGROUP reply", reply)
        }
        // Pending reads return entries deleted meanwhile with nil fields; they have nothing left to apply.
        if pending, let list = first[1].array {
            var deleted: [String] = []
            for item in list {
                if let pair = item.array, pair.count == 2, pair[1].isNull, let id = pair[0].string { deleted.append(id) }
            }
            if !deleted.isEmpty { _ = try acknowledge(connection, ids: deleted) }
        }
        return try StreamEntry.decodeList(first[1])
    }

    /// Acknowledges and deletes applied entries; returns how many were still pending.
    @discardableResult
    public func acknowledge(_ connection: RedisConnection, ids: [String]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let reply = try connection.evalScript(
            QueueScripts.acknowledge, keys: [RedisArgument(keys.events)],
            args: [RedisArgument(QueueKeys.group)] + ids.map { RedisArgument($0) })
        return reply.int ?? 0
    }

    /// Moves pending entry `entryId` into the retry set, due at `dueAtMilliseconds`, carrying `envelope` (whose attempt
    /// the caller has already increased). False when the entry was no longer pending.
    @discardableResult
    public func scheduleRetry(
        _ connection: RedisConnection, entryId: String, envelope: EventEnvelope, dueAtMilliseconds: Int
    ) throws -> Bool {
        let reply = try connection.evalScript(
            QueueScripts.retry, keys: [RedisArgument(keys.events), RedisArgument(keys.retry)],
            args: [RedisArgument(QueueKeys.group), RedisArgument(entryId), RedisArgument(dueAtMilliseconds),
                   RedisArgument(bytes: Self.retryMember(entryId: entryId, fields: envelope.fields))])
        return reply.int == 1
    }

    /// Moves pending entry `entryId` to the dead stream: its original fields plus `error`, `attempts`, `failed_at`,
    /// `consumer`. With `maxLength` > 0 the dead stream then keeps only its newest `maxLength` entries; the result says
    /// how many old ones that removed, so the caller can say so (never silently). `moved` is false when the entry was no
    /// longer pending.
    @discardableResult
    public func deadLetter(
        _ connection: RedisConnection, entryId: String, fields: [(name: String, value: [UInt8])],
        reason: String, attempts: Int, consumer: String, failedAtMilliseconds: Int, maxLength: Int = 0
    ) throws -> DeadLettering {
        var args: [RedisArgument] = [RedisArgument(QueueKeys.group), RedisArgument(entryId), RedisArgument(max(0, maxLength))]
        for field in fields where !DeadLetter.failureFields.contains(field.name) {
            args.append(RedisArgument(field.name))
            args.append(RedisArgument(bytes: field.value))
        }
        args += [RedisArgument(DeadLetter.Field.error.rawValue), RedisArgument(reason),
                 RedisArgument(DeadLetter.Field.attempts.rawValue), RedisArgument(attempts),
                 RedisArgument(DeadLetter.Field.failedAt.rawValue), RedisArgument(failedAtMilliseconds),
                 RedisArgument(DeadLetter.Field.consumer.rawValue), RedisArgument(consumer)]
        let reply = try connection.evalScript(
            QueueScripts.deadLetter, keys: [RedisArgument(keys.events), RedisArgument(keys.dead)], args: args)
        guard let parts = reply.array, parts.count == 2, let moved = parts[0].int, let trimmed = parts[1].int else {
            throw RedisError.unexpected("a dead-letter outcome", reply)
        }
        return DeadLettering(moved: moved == 1, trimmed: trimmed)
    }

    /// Moves up to `limit` retries due by `nowMilliseconds` back onto the events stream; returns how many moved.
    @discardableResult
    public func promoteDueRetries(_ connection: RedisConnection, nowMilliseconds: Int, limit: Int) throws -> Int {
        let reply = try connection.evalScript(
            QueueScripts.promote, keys: [RedisArgument(keys.retry), RedisArgument(keys.events)],
            args: [RedisArgument(nowMilliseconds), RedisArgument(limit), RedisArgument(QueueKeys.group)])
        return reply.int ?? 0
    }

    /// Entries pending longer than `minIdleMilliseconds`, with their owner and delivery count (oldest first). None when
    /// the group is gone (Redis lost the stream, and its pending entries with it; reads re-create the group).
    public func stalePending(_ connection: RedisConnection, minIdleMilliseconds: Int, count: Int) throws -> [PendingEntry] {
        let reply: RESPValue
        do {
            reply = try connection.send(
                "XPENDING", RedisArgument(keys.events), RedisArgument(QueueKeys.group), "IDLE",
                RedisArgument(minIdleMilliseconds), "-", "+", RedisArgument(count))
        } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
            return []
        }
        return try PendingEntry.decodeList(reply)
    }

    /// The `workers` group's lag (entries not yet delivered, XINFO GROUPS); 0 when the stream or group is missing, nil
    /// when Redis cannot tell (it reports no lag after some deletions).
    public func groupLag(_ connection: RedisConnection) throws -> Int? {
        let reply: RESPValue
        do {
            reply = try connection.send("XINFO", "GROUPS", RedisArgument(keys.events))
        } catch let error as RedisError where error.serverErrorPrefix == "ERR" {
            // "ERR no such key": nothing was ever enqueued, or Redis lost the stream.
            return 0
        }
        for group in reply.array ?? [] {
            let fields = Self.infoFields(group)
            if fields["name"]?.string == QueueKeys.group { return fields["lag"]?.int }
        }
        return 0
    }

    /// An XINFO item (a flat name/value list) as a dictionary; the first of a repeated name wins.
    static func infoFields(_ item: RESPValue) -> [String: RESPValue] {
        guard let flat = item.array else { return [:] }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string, fields[name] == nil { fields[name] = flat[index + 1] }
            index += 2
        }
        return fields
    }

    /// Claims for `consumer` entries idle longer than `minIdleMilliseconds`, from `cursor` on (XAUTOCLAIM). Nothing,
    /// with the scan complete, when the group is gone.
    public func claim(
        _ connection: RedisConnection, consumer: String, minIdleMilliseconds: Int, cursor: String, count: Int
    ) throws -> ClaimResult {
        let reply: RESPValue
        do {
            reply = try connection.send(
                "XAUTOCLAIM", RedisArgument(keys.events), RedisArgument(QueueKeys.group), RedisArgument(consumer),
                RedisArgument(minIdleMilliseconds), RedisArgument(cursor), "COUNT", RedisArgument(count))
        } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
            return ClaimResult(nextCursor: "0-0", entries: [], deletedIds: [])
        }
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else {
            throw RedisError.unexpected("an XAUTOCLAIM reply", reply)
        }
        let deleted = parts.count > 2 ? (parts[2].array ?? []).compactMap(\.string) : []
        return ClaimResult(nextCursor: next, entries: try StreamEntry.decodeList(parts[1]), deletedIds: deleted)
    }

    /// Re-asserts `consumer`'s ownership of pending entries it holds (XCLAIM … JUSTID with no minimum idle time): resets
    /// their idle time without raising their delivery count. Returns the ids that are still pending, now owned by
    /// `consumer`; an id settled by another worker meanwhile, or whose entry was deleted, is not among them. An empty set
    /// when the group is gone (Redis lost the stream, and the entries with it).
    public func keepClaim(_ connection: RedisConnection, consumer: String, ids: [String]) throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let reply: RESPValue
        do {
            reply = try connection.send(
                ["XCLAIM", RedisArgument(keys.events), RedisArgument(QueueKeys.group), RedisArgument(consumer), "0"]
                    + ids.map { RedisArgument($0) } + ["JUSTID"])
        } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
            return []
        }
        guard let list = reply.array else { throw RedisError.unexpected("an XCLAIM JUSTID list", reply) }
        var kept = Set<String>()
        for item in list {
            guard let id = item.string else { throw RedisError.unexpected("an entry id", item) }
            kept.insert(id)
        }
        return kept
    }

    /// Every entry of the events stream (accepted, not yet settled), oldest first, read in pages so a long stream does
    /// not arrive as one reply.
    public func events(_ connection: RedisConnection, pageSize: Int = 1_000) throws -> [StreamEntry] {
        try Self.allEntries(of: keys.events, connection, pageSize: pageSize)
    }

    /// Every entry of `key`, oldest first, in pages of `pageSize`.
    static func allEntries(of key: String, _ connection: RedisConnection, pageSize: Int) throws -> [StreamEntry] {
        var entries: [StreamEntry] = []
        var start = "-"
        while true {
            let reply = try connection.send("XRANGE", RedisArgument(key), RedisArgument(start), "+", "COUNT", RedisArgument(pageSize))
            let page = try StreamEntry.decodeList(reply)
            entries += page
            guard page.count == pageSize, let last = page.last else { return entries }
            start = "(" + last.id
        }
    }

    /// One entry of the events stream by id, if it still exists.
    public func event(_ connection: RedisConnection, id: String) throws -> StreamEntry? {
        let reply = try connection.send("XRANGE", RedisArgument(keys.events), RedisArgument(id), RedisArgument(id))
        return try StreamEntry.decodeList(reply).first
    }

    /// Binary-safe retry-set member: the source entry id (keeps members unique) and the fields, length-prefixed.
    static func retryMember(entryId: String, fields: [(name: String, value: [UInt8])]) -> [UInt8] {
        var member = Array(entryId.utf8)
        member.append(UInt8(ascii: "|"))
        for field in fields {
            for part in [Array(field.name.utf8), field.value] {
                member.append(contentsOf: String(part.count).utf8)
                member.append(UInt8(ascii: ":"))
                member.append(contentsOf: part)
            }
        }
        return member
    }
}

/// What moving one entry to the dead stream did.
public struct DeadLettering: Sendable, Hashable {
    /// False when the entry was no longer pending (settled elsewhere): nothing changed.
    public var moved: Bool
    /// Oldest dead letters removed to keep the dead stream within its bound.
    public var trimmed: Int

    public init(moved: Bool, trimmed: Int) {
        self.moved = moved
        self.trimmed = trimmed
    }
}

/// A pending entry as XPENDING reports it.
public struct PendingEntry: Sendable, Equatable {
    public var id: String
    public var consumer: String
    public var idleMilliseconds: Int
    public var deliveries: Int

    public init(id: String, consumer: String, idleMilliseconds: Int, deliveries: Int) {
        self.id = id
        self.consumer = consumer
        self.idleMilliseconds = idleMilliseconds
        self.deliveries = deliveries
    }

    static func decodeList(_ value: RESPValue) throws -> [PendingEntry] {
        guard let list = value.array else { throw RedisError.unexpected("an XPENDING list", value) }
        var out: [PendingEntry] = []
        for item in list {
            guard let f = item.array, f.count == 4, let id = f[0].string, let consumer = f[1].string,
                  let idle = f[2].int, let deliveries = f[3].int
            else { throw RedisError.unexpected("an XPENDING entry", item) }
            out.append(PendingEntry(id: id, consumer: consumer, idleMilliseconds: idle, deliveries: deliveries))
        }
        return out
    }
}

/// What one XAUTOCLAIM call returned.
public struct ClaimResult: Sendable, Equatable {
    /// Where the next call continues; "0-0" when the scan is complete.
    public var nextCursor: String
    public var entries: [StreamEntry]
    /// Ids that were pending but whose entries no longer exist (Redis drops them from the pending list).
    public var deletedIds: [String]

    public init(nextCursor: String, entries: [StreamEntry], deletedIds: [String]) {
        self.nextCursor = nextCursor
        self.entries = entries
        self.deletedIds = deletedIds
    }
}
