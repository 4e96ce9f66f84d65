import Redis

/// The queue for processes that are not on the gateway's event loop (the worker, docketctl and its console): a Redis
/// client of its own, whose thread runs every call, and errors in the queue's terms (`QueueUnavailable`,
/// `QueueFailure`). Callers never see a Redis type.
public final class QueueClient: Sendable {
    public let queue: EventQueue
    /// The Redis URL with any password replaced by `***`, for messages.
    public let redactedURL: String
    /// How long one Redis command may take before the connection is dropped: a blocking read must ask for less.
    public let commandTimeout: Duration
    let route: QueueRoute
    /// A connection of its own for blocking reads (`read` with a block time), so they never hold up other calls.
    let reader: QueueRoute?

    /// Nothing connects until the first call. `blockingReads`: keep a second connection for `read`, whose BLOCK would
    /// otherwise make every other call wait. Throws `InvalidQueueURL` for a URL that is not `redis://host:port/db`.
    public convenience init(url: String, prefix: String, blockingReads: Bool = false) throws(InvalidQueueURL) {
        try self.init(endpoint: QueueEndpoint(url: url, cluster: false), keys: QueueKeys(prefix: prefix), blockingReads: blockingReads)
    }

    /// The queue of one partition (`Partitioning.keys`), on one server or a cluster (routed by the partition's slot).
    public init(endpoint: QueueEndpoint, keys: QueueKeys, blockingReads: Bool = false) {
        let slot = ClusterSlot.of(keys.events)
        route = endpoint.makeRoute(slot: slot)
        reader = blockingReads ? endpoint.makeRoute(slot: slot) : nil
        redactedURL = endpoint.redactedURL
        commandTimeout = endpoint.connectionTemplate.commandTimeout
        queue = EventQueue(keys: keys)
    }

    /// Closes the connections; later calls fail with `QueueUnavailable`.
    public func shutdown() {
        reader?.shutdown()
        route.shutdown()
    }

    /// Backlog, pending, retrying, dead and the consumers, read together.
    public func stats() async throws -> QueueStats {
        try await run { connection, queue in try queue.stats(connection) }
    }

    /// Entries not yet delivered to any worker (XINFO GROUPS `lag`); 0 when nothing was ever enqueued, nil when Redis
    /// cannot tell.
    public func groupLag() async throws -> Int? {
        try await run { connection, queue in try queue.groupLag(connection) }
    }

    /// How many entries were ever added to the events and dead streams: rates come from two readings.
    public func counters() async throws -> QueueCounters {
        try await run { connection, queue in try queue.counters(connection) }
    }

    /// Newest first, at most `limit`.
    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await run { connection, queue in try queue.deadLetters(connection, limit: limit) }
    }

    /// Every dead letter matching `filter` (every one for an empty filter), oldest first.
    public func deadLetters(matching filter: DeadLetterFilter) async throws -> [DeadLetter] {
        try await run { connection, queue in try queue.deadLetters(connection, matching: filter) }
    }

    /// One page of matching dead letters, newest first, below `cursor`.
    public func deadLetterPage(filter: DeadLetterFilter, before cursor: String?, limit: Int) async throws -> DeadLetterPage {
        try await run { connection, queue in
            try queue.deadLetterPage(connection, filter: filter, before: cursor, limit: limit)
        }
    }

    /// One dead letter, or nil.
    public func deadLetter(id: String) async throws -> DeadLetter? {
        try await run { connection, queue in try queue.deadLetter(connection, id: id) }
    }

    /// Moves a dead letter back onto the events stream, atomically; the new event id, or nil when it is gone.
    public func replay(deadLetterId: String) async throws -> String? {
        try await run { connection, queue in try queue.replay(connection, deadLetterId: deadLetterId) }
    }

    /// Deletes dead letters; how many existed.
    @discardableResult
    public func purge(deadLetterIds: [String]) async throws -> Int {
        try await run { connection, queue in try queue.purge(connection, deadLetterIds: deadLetterIds) }
    }

    func run<T: Sendable>(
        on route: QueueRoute? = nil, _ body: @escaping @Sendable (RedisConnection, EventQueue) throws -> T
    ) async throws -> T {
        let queue = self.queue
        do {
            return try await (route ?? self.route).withConnection { connection in try body(connection, queue) }
        } catch let error as RedisError {
            throw Self.queueError(error, url: redactedURL)
        }
    }

    /// A Redis error in the queue's terms: unreachable (connection) or failed (anything else).
    static func queueError(_ error: RedisError, url: String) -> any Error {
        error.isConnectionError
            ? QueueUnavailable(description: "cannot reach Redis at \(url): \(error.message)")
            : QueueFailure(description: error.description)
    }
}

/// A Redis URL that cannot be used; `message` says why.
public struct InvalidQueueURL: Error, Sendable {
    public let message: String
}

/// Redis could not be reached (refused, timed out, connection lost); nothing can be said about the queue.
public struct QueueUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Redis answered with an error or a reply the queue did not expect (an error reply such as OOM, a key of the wrong
/// type); the operation did not take effect.
public struct QueueFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
}
