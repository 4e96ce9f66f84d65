public import Postgres

/// Whose fault a failed statement is: the one place Docket reads Postgres's SQLSTATEs (docs/architecture.md, "Outages
/// are not the event's fault"). Anything not clearly caused by the data is the infrastructure's, so a misconfigured
/// database (a missing table) never condemns good data.
public enum FailureKind: Sendable, Hashable {
    /// Postgres down, unreachable, restarting or misconfigured, or an audit trail with no partition for today: nothing
    /// is wrong with the data; retry later.
    case infrastructure
    /// The data itself was rejected (SQLSTATE class 22 data exception, 23 integrity violation, or a value the client
    /// cannot send): retrying cannot help.
    case data
    /// A lock or serialization conflict (40001, 40P01, 55P03): the same statement may succeed later.
    case conflict

    public init(_ error: PostgresError) {
        if error.isConnectionError {
            self = .infrastructure
        } else if error.isRetryableConflict {
            self = .conflict
        } else if error.code == .decoding {
            self = .data
        } else if error.code == .server, let state = error.sqlState, state.hasPrefix("22") || state.hasPrefix("23"),
                  !AuditLog.isMissingPartition(error) {
            self = .data
        } else {
            self = .infrastructure
        }
    }

    /// A unique violation (23505): with `FailureKind.data`, the one integrity error a caller may want to tell apart.
    static func isUniqueViolation(_ error: PostgresError) -> Bool {
        error.code == .server && error.sqlState == "23505"
    }

    /// SQLSTATE and message without the detail line, which may quote the row: safe for logs and dead letters.
    static func summary(_ error: PostgresError) -> String {
        "\(error.sqlState ?? "client") \(error.message)"
    }
}

/// A store operation failed for no fault of the data: Postgres is down, unreachable or misconfigured. Nothing was
/// committed by the failing statement; back off and try again.
public struct StoreUnavailable: Error, CustomStringConvertible, Sendable {
    /// The Postgres error, passwords redacted.
    public let description: String

    public init(_ error: PostgresError) {
        description = error.description
    }
}
