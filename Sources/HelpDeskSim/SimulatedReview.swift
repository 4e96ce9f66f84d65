import Model

/// One review the simulated Help Desk accepted, with its verdict and delivery state; also the `GET /documents` row.
struct SimulatedReview: Sendable, Encodable {
    var documentId: String
    var documentUrl: String
    var agentId: String
    /// PENDING_REVIEW until the agent decides, then ACCEPTED or DECLINED.
    var documentStatus: String
    /// A 2xx was received for the verdict webhook.
    var delivered: Bool
    /// Webhook POSTs made so far, duplicates included.
    var deliveryAttempts: Int
    /// `POST /document` calls that reached this review (an Idempotency-Key replay adds one).
    var requests: Int
    /// The verdict's `webhook-id`, fixed once the verdict is decided (retries and duplicates reuse it).
    var webhookId: String?

    /// Where the verdict goes; not listed (it is the caller's configuration, not the review's state).
    var callbackUrl: String

    private enum CodingKeys: String, CodingKey {
        case documentId, documentUrl, agentId, documentStatus, delivered, deliveryAttempts, requests, webhookId
    }
}
