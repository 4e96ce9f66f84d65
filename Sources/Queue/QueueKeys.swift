/// The Redis keys of one Docket installation (docs/reference.md §8); the braces keep them in one cluster hash slot.
public struct QueueKeys: Sendable, Hashable {
    public let prefix: String
    /// Stream of accepted webhooks not yet applied.
    public let events: String
    /// Sorted set of events waiting for their next attempt, scored by due time in ms.
    public let retry: String
    /// Stream of dead letters.
    public let dead: String
    /// The consumer group every worker reads through.
    public static let group = "workers"

    public init(prefix: String) {
        self.prefix = prefix
        self.events = "{\(prefix)}:events"
        self.retry = "{\(prefix)}:retry"
        self.dead = "{\(prefix)}:dead"
    }

    /// The gateway's dedupe key for one webhook id.
    public func seen(_ webhookId: String) -> String { "{\(prefix)}:seen:\(webhookId)" }
}
