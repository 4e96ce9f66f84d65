public import Model
import Redis

/// The worker's side of the queue (docs/architecture.md, "Each process's job"): read, keep and reclaim entries, settle
/// a batch, bury poison, promote retries. Each call is one `EventQueue` operation (or one settlement) on the client's
/// connection; blocking reads go to the reader connection when the client has one.
extension QueueClient {
    /// New entries (`pending: false`) or this consumer's own pending ones, waiting up to `blockMilliseconds` for new ones.
    public func read(consumer: String, count: Int, blockMilliseconds: Int, pending: Bool) async throws -> [StreamEntry] {
        try await run(on: reader) { connection, queue in
            try queue.read(connection, consumer: consumer, count: count, blockMilliseconds: blockMilliseconds, pending: pending)
        }
    }

    /// Re-asserts `consumer`'s hold on `ids`; the ids still pending (see `EventQueue.keepClaim`).
    public func keepClaim(consumer: String, ids: [String]) async throws -> Set<String> {
        try await run { connection, queue in try queue.keepClaim(connection, consumer: consumer, ids: ids) }
    }

    /// Pending entries idle longer than `minIdleMilliseconds`, any consumer's.
    public func stalePending(minIdleMilliseconds: Int, count: Int) async throws -> [PendingEntry] {
        try await run { connection, queue in
            try queue.stalePending(connection, minIdleMilliseconds: minIdleMilliseconds, count: count)
        }
    }

    /// XAUTOCLAIM for `consumer` from `cursor` on.
    public func claim(consumer: String, minIdleMilliseconds: Int, cursor: String, count: Int) async throws -> ClaimResult {
        try await run { connection, queue in
            try queue.claim(connection, consumer: consumer, minIdleMilliseconds: minIdleMilliseconds, cursor: cursor, count: count)
        }
    }

    /// Acknowledges and deletes `ids`.
    public func acknowledge(_ ids: [String]) async throws {
        try await run { connection, queue in _ = try queue.acknowledge(connection, ids: ids) }
    }

    /// Moves a pending entry delivered too often to the dead stream as it is; see `PoisonBurial`.
    public func buryPoison(
        entryId: String, reason: String, consumer: String, failedAtMilliseconds: Int, deadMaxLength: Int
    ) async throws -> PoisonBurial {
        try await run { connection, queue -> PoisonBurial in
            guard let event = try queue.event(connection, id: entryId) else {
                try queue.acknowledge(connection, ids: [entryId])
                return .gone
            }
            let attempt = (try? EventEnvelope(fields: event.fields))?.attempt ?? 0
            let result = try queue.deadLetter(
                connection, entryId: entryId, fields: event.fields, reason: reason, attempts: attempt + 1,
                consumer: consumer, failedAtMilliseconds: failedAtMilliseconds, maxLength: deadMaxLength)
            guard result.moved else { return .settledElsewhere }
            return .buried(webhookId: StreamEntry.loggableWebhookId(event.fields), trimmed: result.trimmed)
        }
    }

    /// Settles a batch on one connection: acknowledges, schedules the retries, dead-letters the rest (each step one
    /// script, atomic per entry). Returns how many old dead letters were trimmed to keep the dead stream at
    /// `deadMaxLength`.
    public func settle(_ settlement: Settlement, consumer: String, failedAtMilliseconds: Int, deadMaxLength: Int) async throws -> Int {
        try await run { connection, queue -> Int in
            try queue.acknowledge(connection, ids: settlement.acknowledged)
            for retry in settlement.retries {
                try queue.scheduleRetry(
                    connection, entryId: retry.entryId, envelope: retry.envelope, dueAtMilliseconds: retry.dueAtMilliseconds)
            }
            var trimmed = 0
            for item in settlement.dead {
                trimmed += try queue.deadLetter(
                    connection, entryId: item.entryId, fields: item.fields, reason: item.reason, attempts: item.attempts,
                    consumer: consumer, failedAtMilliseconds: failedAtMilliseconds, maxLength: deadMaxLength
                ).trimmed
            }
            return trimmed
        }
    }

    /// Moves retries due by `nowMilliseconds` back onto the events stream, at most `limit`; how many moved.
    public func promoteDueRetries(nowMilliseconds: Int, limit: Int) async throws -> Int {
        try await run { connection, queue in try queue.promoteDueRetries(connection, nowMilliseconds: nowMilliseconds, limit: limit) }
    }
}

/// What burying a poison entry did.
public enum PoisonBurial: Sendable, Equatable {
    /// Moved to the dead stream; `trimmed` old dead letters were dropped to keep the stream's bound.
    case buried(webhookId: String, trimmed: Int)
    /// The entry was already deleted from the stream: its pending record is acknowledged away.
    case gone
    /// Another worker settled it meanwhile: nothing changed.
    case settledElsewhere
}

/// A batch's outcome for Redis: what to acknowledge, retry later and give up on.
public struct Settlement: Sendable {
    public struct Retry: Sendable {
        public var entryId: String
        /// The event as it goes back, its attempt already raised.
        public var envelope: EventEnvelope
        public var dueAtMilliseconds: Int

        public init(entryId: String, envelope: EventEnvelope, dueAtMilliseconds: Int) {
            self.entryId = entryId
            self.envelope = envelope
            self.dueAtMilliseconds = dueAtMilliseconds
        }
    }

    public struct Dead: Sendable {
        public var entryId: String
        /// The entry's fields as read, kept whole in the dead stream.
        public var fields: [(name: String, value: [UInt8])]
        public var reason: String
        public var attempts: Int

        public init(entryId: String, fields: [(name: String, value: [UInt8])], reason: String, attempts: Int) {
            self.entryId = entryId
            self.fields = fields
            self.reason = reason
            self.attempts = attempts
        }
    }

    public var acknowledged: [String]
    public var retries: [Retry]
    public var dead: [Dead]

    public init(acknowledged: [String], retries: [Retry], dead: [Dead]) {
        self.acknowledged = acknowledged
        self.retries = retries
        self.dead = dead
    }
}

extension StreamEntry {
    /// An entry's webhook id for a log line: at most 256 bytes, `-` when it has none (a poison entry may lack it).
    public static func loggableWebhookId(_ fields: [(name: String, value: [UInt8])]) -> String {
        guard let value = fields.first(where: { $0.name == EventEnvelope.Field.webhookId.rawValue })?.value else { return "-" }
        return String(decoding: value.prefix(256), as: UTF8.self)
    }
}
