/// What the gateway's enqueue did with one webhook.
public enum EnqueueOutcome: Sendable, Equatable {
    /// Added to the events stream as entry `entryId`.
    case accepted(entryId: String)
    /// The webhook id was accepted before (within the dedupe window); nothing was added.
    case duplicate
    /// The backlog is at its limit; nothing was added and the sender should retry later.
    case overBacklog
}
