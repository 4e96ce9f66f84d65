import Postgres
import Store

/// Whose fault a failure is, which decides whether an event pays for it (docs/architecture.md, "The guarantees and
/// where each is kept", "Outages are not the event's fault").
enum FailureClass: Sendable, Hashable {
    /// Postgres or Redis is down, unreachable or misconfigured: no ack, no attempt spent, no dead letter; back off.
    case infrastructure
    /// The event's own data was rejected: dead-letter it.
    case eventData
    /// A lock or serialization conflict: retry the event later.
    case conflict

    /// Classifies an error from applying one event; anything not clearly the event's fault is treated as infrastructure,
    /// so a misconfigured database (missing table) never dead-letters good events.
    static func of(_ error: any Error) -> FailureClass {
        if let postgres = error as? PostgresError {
            if postgres.isConnectionError { return .infrastructure }
            if postgres.isRetryableConflict { return .conflict }
            if VerdictStore.isEventFault(postgres) { return .eventData }
            return .infrastructure
        }
        return .infrastructure
    }

    /// The per-event result for a failure that belongs to the event, or nil when the failure is the infrastructure's.
    static func eventResult(for error: any Error) -> EventResult? {
        switch of(error) {
        case .infrastructure: return nil
        case .eventData: return .rejectedByDatabase(Self.summary(error))
        case .conflict: return .conflict(Self.summary(error))
        }
    }

    /// SQLSTATE and message, without the detail line (which may quote the row).
    static func summary(_ error: any Error) -> String {
        guard let postgres = error as? PostgresError else { return String(describing: error) }
        return "\(postgres.sqlState ?? "client") \(postgres.message)"
    }
}
