/// The Help Desk's decision on a document, as sent in `documentStatus`.
public enum Verdict: String, Sendable, Hashable, CaseIterable, Codable {
    case accepted = "ACCEPTED"
    case declined = "DECLINED"

    /// The review status a document takes when this verdict is applied.
    public var reviewStatus: ReviewStatus {
        switch self {
        case .accepted: .accepted
        case .declined: .declined
        }
    }
}
