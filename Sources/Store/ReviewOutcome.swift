/// What to write for one requested review; `ReviewStore.record(_:on:)` writes many in one round trip.
public enum ReviewOutcome: Sendable, Hashable {
    /// The Help Desk took the review: PENDING_REVIEW with its ids.
    case accepted(id: Int, agentId: String, documentId: String)
    /// A retryable failure: due again after `retryAfter`.
    case retry(id: Int, error: String, retryAfter: Duration)
    /// REQUEST_FAILED with the reason.
    case failed(id: Int, reason: String)

    /// The review this outcome is for.
    public var id: Int {
        switch self {
        case .accepted(let id, _, _), .retry(let id, _, _), .failed(let id, _): id
        }
    }
}
