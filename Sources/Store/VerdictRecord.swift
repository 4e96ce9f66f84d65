public import Model

/// One verdict to apply: the webhook that carried it, its webhook-timestamp (orders verdicts), and the payload.
public struct VerdictRecord: Sendable, Hashable {
    /// The `webhook-id`: stored on the document it decides, so a redelivery changes nothing twice; breaks timestamp ties.
    public var webhookId: String
    /// The `webhook-timestamp` in Unix seconds; a verdict older than the applied one never overwrites it.
    public var timestamp: Int
    /// The decoded payload.
    public var verdict: ReviewVerdict

    /// Creates a record.
    public init(webhookId: String, timestamp: Int, verdict: ReviewVerdict) {
        self.webhookId = webhookId
        self.timestamp = timestamp
        self.verdict = verdict
    }
}
