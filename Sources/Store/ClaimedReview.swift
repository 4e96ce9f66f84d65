/// A QUEUED review this scheduler holds a lease on and should request now.
public struct ClaimedReview: Sendable, Hashable {
    /// `document_reviews.id`; also the suffix of the request's Idempotency-Key.
    public var id: Int
    /// The document to have reviewed.
    public var documentURL: String
    /// Requests already sent for this review (failed ones; the one about to be sent is not counted yet).
    public var requestAttempts: Int

    /// Creates a claimed review.
    public init(id: Int, documentURL: String, requestAttempts: Int) {
        self.id = id
        self.documentURL = documentURL
        self.requestAttempts = requestAttempts
    }
}
