import Model
import Queue
import Redis

/// The queue operations the consume loop needs: the seam between `EventConsumer`'s decisions and Redis, so its
/// branches can be tested with an in-memory stream as well as the real one.
protocol ConsumerQueue: Sendable {
    /// Up to `count` entries for `consumer`: its own pending ones, or new ones waiting up to `blockMilliseconds`.
    func read(consumer: String, count: Int, blockMilliseconds: Int, pending: Bool) async throws -> [StreamEntry]
    /// Re-asserts `consumer`'s claim on `ids`; returns those still pending (settled elsewhere: not among them).
    func keepClaim(consumer: String, ids: [String]) async throws -> Set<String>
    /// Entries pending longer than `minIdleMilliseconds`, oldest first.
    func stalePending(minIdleMilliseconds: Int, count: Int) async throws -> [PendingEntry]
    /// Moves a pending entry delivered too often to the dead stream; what happened to it.
    func buryPoison(_ entry: PendingEntry, reason: String, consumer: String, failedAtMilliseconds: Int) async throws -> PoisonBurial
    /// Claims entries idle longer than `minIdleMilliseconds` from `cursor` on.
    func claim(consumer: String, minIdleMilliseconds: Int, cursor: String, count: Int) async throws -> ClaimResult
    /// Acknowledges and deletes `ids`.
    func acknowledge(_ ids: [String]) async throws
}

/// What burying a poison entry did.
enum PoisonBurial: Sendable, Equatable {
    /// It is in the dead stream; `trimmed` old dead letters made room for it.
    case buried(webhookId: String, trimmed: Int)
    /// Its entry no longer exists: acknowledged, nothing to bury.
    case gone
    /// Settled by another worker meanwhile: nothing done.
    case settledElsewhere
}

/// What the consume loop hands each batch to.
protocol BatchProcessing: Sendable {
    @discardableResult
    func process(_ entries: [StreamEntry]) async throws -> BatchProcessor.Summary
    /// Wall-clock Unix milliseconds.
    func nowMilliseconds() -> Int
    /// Says that the dead stream lost `count` old dead letters to its bound.
    func reportTrimmed(_ count: Int)
}

extension BatchProcessor: BatchProcessing {
    func nowMilliseconds() -> Int {
        wallClock()
    }
}

/// The consume loop's queue on Redis: reads on a connection of their own (XREADGROUP BLOCK would delay everything
/// else), the rest on another.
struct RedisConsumerQueue: ConsumerQueue {
    let queue: EventQueue
    let reader: RedisClient
    let redis: RedisClient
    /// The dead stream's bound (`DOCKET_DEAD_MAXLEN`; 0: none).
    let deadMaxLength: Int

    func read(consumer: String, count: Int, blockMilliseconds: Int, pending: Bool) async throws -> [StreamEntry] {
        let queue = self.queue
        return try await reader.withConnection { connection in
            try queue.read(connection, consumer: consumer, count: count, blockMilliseconds: blockMilliseconds, pending: pending)
        }
    }

    func keepClaim(consumer: String, ids: [String]) async throws -> Set<String> {
        let queue = self.queue
        return try await redis.withConnection { connection in try queue.keepClaim(connection, consumer: consumer, ids: ids) }
    }

    func stalePending(minIdleMilliseconds: Int, count: Int) async throws -> [PendingEntry] {
        let queue = self.queue
        return try await redis.withConnection { connection in
            try queue.stalePending(connection, minIdleMilliseconds: minIdleMilliseconds, count: count)
        }
    }

    func buryPoison(_ entry: PendingEntry, reason: String, consumer: String, failedAtMilliseconds: Int) async throws -> PoisonBurial {
        let queue = self.queue
        let deadMaxLength = self.deadMaxLength
        return try await redis.withConnection { connection -> PoisonBurial in
            guard let event = try queue.event(connection, id: entry.id) else {
                try queue.acknowledge(connection, ids: [entry.id])
                return .gone
            }
            let attempt = (try? EventEnvelope(fields: event.fields))?.attempt ?? 0
            let result = try queue.deadLetter(
                connection, entryId: entry.id, fields: event.fields, reason: reason, attempts: attempt + 1,
                consumer: consumer, failedAtMilliseconds: failedAtMilliseconds, maxLength: deadMaxLength)
            guard result.moved else { return .settledElsewhere }
            return .buried(webhookId: BatchProcessor.webhookId(event.fields), trimmed: result.trimmed)
        }
    }

    func claim(consumer: String, minIdleMilliseconds: Int, cursor: String, count: Int) async throws -> ClaimResult {
        let queue = self.queue
        return try await redis.withConnection { connection in
            try queue.claim(connection, consumer: consumer, minIdleMilliseconds: minIdleMilliseconds, cursor: cursor, count: count)
        }
    }

    func acknowledge(_ ids: [String]) async throws {
        let queue = self.queue
        try await redis.withConnection { connection in _ = try queue.acknowledge(connection, ids: ids) }
    }
}
