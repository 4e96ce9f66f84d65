public import Postgres

/// Brings a database to the latest schema; safe to run repeatedly and from several processes at once.
public struct Migrator: Sendable {
    /// Every migration in version order.
    static let migrations: [Migration] = [
        .createReviewTables,
        .pendingReviewIndex,
        .auditLog,
    ]

    /// A fixed advisory lock key ("docket" in ASCII) that serialises concurrent migration runs.
    static let lockKey = 0x646f_636b_6574

    /// Takes the transaction-scoped advisory lock: a second runner waits here, then sees the first one's versions.
    static let lockSQL = "SELECT pg_advisory_xact_lock($1)"

    /// Created under the lock, so two first runs cannot race on CREATE TABLE.
    static let createVersionTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    int         PRIMARY KEY,
            applied_at timestamptz DEFAULT now()
        )
        """

    static let appliedVersionsSQL = "SELECT version FROM schema_migrations"
    static let recordVersionSQL = "INSERT INTO schema_migrations (version) VALUES ($1)"

    /// The version a fully migrated database is at.
    public static var latestVersion: Int {
        migrations.map(\.version).max() ?? 0
    }

    public init() {}

    /// Applies the missing migrations in one transaction under an advisory lock; returns the versions applied now
    /// (empty when the database was up to date). On failure nothing is applied.
    public func migrate(_ connection: PostgresConnection) throws -> [Int] {
        try connection.transaction { connection in
            try connection.query(Self.lockSQL, [.int(Self.lockKey)])
            try connection.execute(Self.createVersionTableSQL)
            var applied = Set<Int>()
            for row in try connection.query(Self.appliedVersionsSQL).rows {
                if let version = try row.int("version") { applied.insert(version) }
            }
            var appliedNow: [Int] = []
            for migration in Self.migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
                try connection.execute(migration.sql)
                try connection.query(Self.recordVersionSQL, [.int(migration.version)])
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
    }
}
