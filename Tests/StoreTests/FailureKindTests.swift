import Postgres
import Testing
@testable import Store

/// Whose fault a Postgres error is, decided in one place.
@Suite struct FailureKindTests {
    @Test func connectionLossIsInfrastructure() {
        #expect(FailureKind(PostgresError(code: .connection, message: "server closed the connection")) == .infrastructure)
        #expect(FailureKind(PostgresError(code: .server, sqlState: "57P01", message: "terminating connection")) == .infrastructure)
        #expect(FailureKind(PostgresError(code: .server, sqlState: "08006", message: "connection failure")) == .infrastructure)
    }

    @Test func schemaProblemsAreInfrastructureNotTheDatasFault() {
        // A missing table must never dead-letter good events.
        #expect(FailureKind(PostgresError(code: .server, sqlState: "42P01", message: "relation does not exist")) == .infrastructure)
        #expect(FailureKind(PostgresError(code: .server, sqlState: "53300", message: "too many connections")) == .infrastructure)
        #expect(FailureKind(PostgresError(code: .protocol, message: "unexpected result")) == .infrastructure)
        // An audit trail whose upkeep is behind is a 23514 about the table, not about the row.
        #expect(FailureKind(PostgresError(
            code: .server, sqlState: "23514", message: "keine Partition von Relation gefunden", table: "webhook_log")) == .infrastructure)
    }

    @Test func dataErrorsBelongToTheData() {
        #expect(FailureKind(PostgresError(code: .server, sqlState: "22008", message: "timestamp out of range")) == .data)
        #expect(FailureKind(PostgresError(code: .server, sqlState: "23514", message: "violates check constraint")) == .data)
        #expect(FailureKind(PostgresError(code: .decoding, message: "NUL byte")) == .data)
        let unique = PostgresError(code: .server, sqlState: "23505", message: "duplicate key", detail: "Key (document_id)=(x)")
        #expect(FailureKind(unique) == .data)
        #expect(FailureKind.isUniqueViolation(unique))
        #expect(FailureKind.summary(unique) == "23505 duplicate key", "the detail line may quote the row: never in a summary")
    }

    @Test func conflictsAreRetryable() {
        #expect(FailureKind(PostgresError(code: .server, sqlState: "40P01", message: "deadlock detected")) == .conflict)
        #expect(FailureKind(PostgresError(code: .server, sqlState: "40001", message: "could not serialize")) == .conflict)
        #expect(FailureKind(PostgresError(code: .server, sqlState: "55P03", message: "lock not available")) == .conflict)
    }
}
