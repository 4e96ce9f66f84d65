/// How the queue is split over Redis hash slots (docs/reference.md §8): `count` partitions, each with its own events
/// stream, retry set, dead stream and dedupe keys under one hash tag, so every script still runs inside one slot.
/// Partition 0 keeps the unpartitioned keys (`{PREFIX}:events`, …) and partition i > 0 has `{PREFIX-i}:…`: one
/// partition is exactly today's layout, and raising the count (from 1, or from any N) leaves every existing partition's
/// keys where they are, so entries already queued are still drained.
public struct Partitioning: Sendable, Hashable {
    public let prefix: String
    public let count: Int

    /// `count` must be at least 1.
    public init(prefix: String, count: Int) {
        precondition(count >= 1, "at least one partition")
        self.prefix = prefix
        self.count = count
    }

    /// Partition `index`'s keys: `{PREFIX}:…` for partition 0, `{PREFIX-index}:…` for the others.
    public func keys(_ index: Int) -> QueueKeys {
        QueueKeys(prefix: index == 0 ? prefix : "\(prefix)-\(index)")
    }

    /// Every partition's keys, in order.
    public var allKeys: [QueueKeys] {
        (0..<count).map(keys)
    }

    /// The partition a webhook goes to: FNV-1a (64-bit) of its id's UTF-8 bytes, modulo `count`. Stable across
    /// releases and processes (tests pin it with fixed vectors), so a redelivered webhook meets its dedupe key; a change
    /// of `count` moves ids between partitions, so for one dedupe window after it a redelivery may be enqueued twice
    /// (the store still applies it once).
    public func partition(forWebhookId webhookId: some Collection<UInt8>) -> Int {
        Int(Self.fnv1a(webhookId) % UInt64(count))
    }

    public func partition(forWebhookId webhookId: String) -> Int {
        partition(forWebhookId: Array(webhookId.utf8))
    }

    /// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
    public static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
