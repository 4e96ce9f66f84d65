/// The identity of a webhook whose signature and timestamp checked out.
public struct VerifiedWebhook: Sendable, Hashable {
    /// The `webhook-id` header: the sender's idempotency key for this message.
    public var id: String
    /// The `webhook-timestamp` header, in Unix seconds.
    public var timestamp: Int

    /// Creates a verified identity (normally only `WebhookVerifier` does this).
    public init(id: String, timestamp: Int) {
        self.id = id
        self.timestamp = timestamp
    }
}
