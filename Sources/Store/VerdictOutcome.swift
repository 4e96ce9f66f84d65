/// What applying one verdict did.
public enum VerdictOutcome: Sendable, Hashable {
    /// The verdict is now the document's state (webhook recorded as processed).
    case applied
    /// The webhook id was processed before; nothing changed.
    case duplicate
    /// Recorded as processed, but a verdict at least as new was already applied (or won within the batch): no overwrite.
    case stale
    /// No `document_reviews` row has this `document_id` (yet): nothing was recorded, so a retry can still apply it.
    case unknownDocument
    /// The row exists but its status (`QUEUED`, `REQUEST_FAILED`) cannot take a verdict; nothing was recorded.
    case wrongState(String)
}
