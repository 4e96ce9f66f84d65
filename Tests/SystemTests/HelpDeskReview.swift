/// One row of helpdesk-sim's `GET /documents` (DESIGN §3.3): what the simulated Help Desk decided and delivered.
struct HelpDeskReview: Decodable, Sendable, Hashable {
    var documentId: String
    var documentUrl: String
    var agentId: String
    /// PENDING_REVIEW until the agent decides, then ACCEPTED or DECLINED.
    var documentStatus: String
    /// A 2xx was received for the verdict's webhook.
    var delivered: Bool
    /// Webhook POSTs made, retries and duplicates included.
    var deliveryAttempts: Int
    /// `POST /document` calls for this review (an Idempotency-Key replay adds one).
    var requests: Int?
    /// The verdict's `webhook-id`, once decided.
    var webhookId: String?
}
