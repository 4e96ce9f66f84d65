import Model
import Queue

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

/// The consume loop's queue on Redis, through the queue's client: reads on a connection of their own (XREADGROUP
/// BLOCK would delay everything else), the rest on another.
struct QueueConsumer: ConsumerQueue {
    let client: QueueClient
    let deadMaxLength: Int

    func read(consumer: String, count: Int, blockMilliseconds: Int, pending: Bool) async throws -> [StreamEntry] {
        try await client.read(consumer: consumer, count: count, blockMilliseconds: blockMilliseconds, pending: pending)
    }

    func keepClaim(consumer: String, ids: [String]) async throws -> Set<String> {
        try await client.keepClaim(consumer: consumer, ids: ids)
    }

    func stalePending(minIdleMilliseconds: Int, count: Int) async throws -> [PendingEntry] {
        try await client.stalePending(minIdleMilliseconds: minIdleMilliseconds, count: count)
    }

    func buryPoison(_ entry: PendingEntry, reason: String, consumer: String, failedAtMilliseconds: Int) async throws -> PoisonBurial {
        try await client.buryPoison(
            entryId: entry.id, reason: reason, consumer: consumer, failedAtMilliseconds: failedAtMilliseconds, deadMaxLength: deadMaxLength)
    }

    func claim(consumer: String, minIdleMilliseconds: Int, cursor: String, count: Int) async throws -> ClaimResult {
        try await client.claim(consumer: consumer, minIdleMilliseconds: minIdleMilliseconds, cursor: cursor, count: count)
    }

    func acknowledge(_ ids: [String]) async throws {
        try await client.acknowledge(ids)
    }
}
