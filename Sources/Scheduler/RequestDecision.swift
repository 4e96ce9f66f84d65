/// What to record for one review after one request to the Help Desk.
enum RequestDecision: Sendable, Hashable {
    /// The Help Desk took the review: PENDING_REVIEW with its ids.
    case accepted(agentId: String, documentId: String)
    /// A transient failure: request again after `delay`, keeping `reason` as the last error.
    case retry(after: Duration, reason: String)
    /// Hopeless (a 4xx, a malformed answer, or attempts used up): REQUEST_FAILED with `reason`.
    case failed(reason: String)

    /// Low-cardinality label for the requests metric.
    var outcome: String {
        switch self {
        case .accepted: "accepted"
        case .retry: "retry"
        case .failed: "failed"
        }
    }
}
