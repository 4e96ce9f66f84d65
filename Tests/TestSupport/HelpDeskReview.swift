/// One row of helpdesk-sim's `GET /documents` (docs/reference.md §11): what the simulated Help Desk decided and
/// delivered.
/// Decoded here, apart from the simulator's own type, so tests check the wire format rather than share the encoder.
public struct HelpDeskReview: Decodable, Sendable, Hashable {
    public var documentId: String
    public var documentUrl: String
    public var agentId: String
    /// PENDING_REVIEW until the agent decides, then ACCEPTED or DECLINED.
    public var documentStatus: String
    /// A 2xx was received for the verdict's webhook.
    public var delivered: Bool
    /// Webhook POSTs made, retries and duplicates included.
    public var deliveryAttempts: Int
    /// `POST /document` calls for this review (an Idempotency-Key replay adds one).
    public var requests: Int
    /// The verdict's `webhook-id`, once decided.
    public var webhookId: String?
}
