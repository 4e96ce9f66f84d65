import Postgres
import Testing

@Suite("PostgresError")
struct PostgresErrorTests {
    @Test func classifiesConnectionErrorsAndConflicts() {
        #expect(PostgresError(code: .connection, message: "gone").isConnectionError)
        #expect(PostgresError(code: .server, sqlState: "08006", message: "x").isConnectionError)
        #expect(PostgresError(code: .server, sqlState: "57P01", message: "x").isConnectionError)
        #expect(!PostgresError(code: .server, sqlState: "23505", message: "x").isConnectionError)
        for state in ["40001", "40P01", "55P03"] {
            #expect(PostgresError(code: .server, sqlState: state, message: "x").isRetryableConflict)
        }
        #expect(!PostgresError(code: .server, sqlState: "23505", message: "x").isRetryableConflict)
    }

    @Test func descriptionNeverShowsPasswords() {
        let error = PostgresError(
            code: .connection,
            message: "could not connect to postgresql://user:p%40ss:w@rd@db.example:5432/app?sslmode=disable and host=x password=hunter2 user=y"
        )
        #expect(!error.description.contains("hunter2"))
        #expect(!error.description.contains("p%40ss"))
        #expect(!error.description.contains("rd@db"))
        #expect(error.description.contains("postgresql://user:***@db.example:5432/app"))
        #expect(error.description.contains("user=y"))
        #expect(PostgresError.redactingSecrets("postgresql://docket@127.0.0.1/docket") == "postgresql://docket@127.0.0.1/docket")
    }
}
