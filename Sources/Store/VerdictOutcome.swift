/// What applying one verdict did.
public enum VerdictOutcome: Sendable, Hashable {
    /// The verdict is now the document's state (and, with the audit trail on, has its `webhook_log` row).
    case applied
    /// This webhook is the one that decided the document (its id is the stored `last_webhook_id`): nothing changed.
    case duplicate
    /// A verdict newer by (webhook-timestamp, webhook-id) is already applied, or won within the batch: no overwrite.
    /// A redelivery of a webhook that was applied and then overtaken is reported here too: both change nothing.
    case stale
    /// No `document_reviews` row has this `document_id` (yet): nothing changed, so a retry can still apply it.
    case unknownDocument
    /// The row exists but its status (`QUEUED`, `REQUEST_FAILED`) cannot take a verdict; nothing changed.
    case wrongState(String)
    /// Postgres rejected this verdict's data (SQLSTATE and message); nothing changed, and retrying cannot help.
    case rejected(String)
    /// It met a lock or serialization conflict and was not applied; it may apply later.
    case conflicted(String)
}
