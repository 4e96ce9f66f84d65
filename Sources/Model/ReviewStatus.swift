/// Where a document review stands; the raw values are what `document_reviews.document_status` stores.
public enum ReviewStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case queued = "QUEUED"
    case pendingReview = "PENDING_REVIEW"
    case accepted = "ACCEPTED"
    case declined = "DECLINED"
    case requestFailed = "REQUEST_FAILED"
}
