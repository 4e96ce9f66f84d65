/// The Help Desk's verdict webhook payload: `{"agentId", "documentId", "documentStatus"}`.
public struct ReviewVerdict: Sendable, Hashable {
    /// Longest accepted `agentId` / `documentId`, in characters.
    public static let maxIdentifierLength = 256

    /// The Help Desk agent who reviewed the document.
    public var agentId: String
    /// The Help Desk's id for the document (unique in `document_reviews.document_id`).
    public var documentId: String
    /// The decision.
    public var documentStatus: Verdict

    /// Creates a verdict.
    public init(agentId: String, documentId: String, documentStatus: Verdict) {
        self.agentId = agentId
        self.documentId = documentId
        self.documentStatus = documentStatus
    }
}
