import Foundation
import Model
import Postgres
import Testing
import TestSupport
@testable import Store

/// The bounded audit trail against a real Postgres (each test its own database): partitions made ahead, expired ones
/// dropped, one runner at a time, and upkeep that never holds up the verdict path.
@Suite struct AuditLogTests {
    static let day: TimeInterval = 86_400

    func migratedDatabase(_ name: String) throws -> (url: String, connection: PostgresConnection) {
        let url = try TestEnvironment.makeDatabase(name)
        let connection = try PostgresConnection(url: url)
        _ = try Migrator().migrate(connection)
        return (url, connection)
    }

    /// Partitions for days in the past, as if the trail had run that long: the migration's "before" partition, which
    /// covers every earlier day, makes way for them. Returns their names, oldest first.
    func makePastPartitions(daysAgo: [Int], on connection: PostgresConnection) throws -> [String] {
        for partition in try AuditLog().partitions(on: connection) where partition.name.hasPrefix("webhook_log_before_") {
            try connection.execute("ALTER TABLE webhook_log DETACH PARTITION \"\(partition.name)\"")
            try connection.execute("DROP TABLE \"\(partition.name)\"")
        }
        let today = AuditDay(containing: Date())
        var names: [String] = []
        for ago in daysAgo.sorted(by: >) {
            let day = today.adding(days: -ago)
            try connection.execute("CREATE TABLE \"\(day.partitionName)\" (LIKE webhook_log)")
            try connection.execute(
                "ALTER TABLE webhook_log ATTACH PARTITION \"\(day.partitionName)\" FOR VALUES FROM ('\(day.start)') TO ('\(day.adding(days: 1).start)')")
            names.append(day.partitionName)
        }
        return names
    }

    @Test func upkeepMakesPartitionsAheadAndDropsExpiredOnesWithTheirRows() throws {
        let (_, connection) = try migratedDatabase("audit-upkeep")
        let now = Date()
        // Nothing to do right after the migration, which made today's partitions.
        #expect(try AuditLog().upkeep(retention: .seconds(30 * 86_400), on: connection) == AuditLog.UpkeepReport(ran: true))
        // A week on, upkeep makes that day's partition and the two after it.
        let ahead = try AuditLog().upkeep(retention: nil, now: now.addingTimeInterval(7 * Self.day), on: connection)
        #expect(ahead.created.count == 3)
        #expect(ahead.dropped.isEmpty)
        let past = try makePastPartitions(daysAgo: [7, 6, 5], on: connection)
        try connection.query(
            "INSERT INTO webhook_log (applied_at, webhook_id) SELECT now() - interval '6 days' - g * interval '1 second', 'old-' || g FROM generate_series(1, 50) g")
        try connection.query("INSERT INTO webhook_log (applied_at, webhook_id) VALUES (now(), 'fresh')")

        // Retention 3 days: the three past partitions go, with their rows; today's and the ones ahead stay.
        let expired = try AuditLog().upkeep(retention: .seconds(3 * 86_400), now: now, on: connection)
        #expect(expired.created.isEmpty)
        #expect(expired.dropped == past, "\(expired)")
        #expect(try connection.query("SELECT webhook_id FROM webhook_log").rows.map { $0["webhook_id"] } == ["fresh"])
        #expect(try AuditLog().partitions(on: connection).count == 6)
        for name in past {
            #expect(try connection.query("SELECT to_regclass($1) IS NULL AS gone", [.text(name)]).rows.first?.bool("gone") == true)
        }
        // Run again: nothing left to do.
        #expect(try AuditLog().upkeep(retention: .seconds(3 * 86_400), now: now, on: connection) == AuditLog.UpkeepReport(ran: true))
    }

    @Test func summarySaysSizeAndOldestEntry() throws {
        let (_, connection) = try migratedDatabase("audit-summary")
        try connection.query("SELECT 1")
        let empty = try AuditLog().summary(on: connection)
        #expect(empty.partitions == 4)
        #expect(empty.oldest == nil)
        try connection.query(
            "INSERT INTO webhook_log (applied_at, webhook_id) SELECT now() - interval '2 hours' + g * interval '1 second', 'w' || g FROM generate_series(1, 2000) g")
        let summary = try AuditLog().summary(on: connection)
        let oldest = try #require(summary.oldest)
        #expect(abs(oldest.timeIntervalSinceNow + 7_199) < 60, "\(oldest)")
        #expect(summary.bytes > 8_192)
    }

    /// Every worker runs upkeep; the advisory lock lets one at a time do it, and the others skip that round.
    @Test func oneRunnerAtATime() throws {
        let (url, connection) = try migratedDatabase("audit-leader")
        let holder = try PostgresConnection(url: url)
        defer { holder.close() }
        try holder.query("SELECT pg_advisory_lock($1)", [.int(AuditLog.upkeepLockKey)])
        #expect(try AuditLog().upkeep(retention: nil, now: Date().addingTimeInterval(9 * Self.day), on: connection).ran == false)
        try holder.query("SELECT pg_advisory_unlock($1)", [.int(AuditLog.upkeepLockKey)])
        #expect(try AuditLog().upkeep(retention: nil, now: Date().addingTimeInterval(9 * Self.day), on: connection).created.count == 3)
    }

    /// Dropping a partition while a transaction still writes the trail waits for that transaction, and meanwhile verdict
    /// batches go on applying and writing the trail: upkeep holds no lock the hot path waits on.
    @Test func droppingAPartitionNeverHoldsUpTheVerdictPath() async throws {
        let (url, connection) = try migratedDatabase("audit-nolock")
        let expired = try makePastPartitions(daysAgo: [5], on: connection)
        try connection.query(
            """
            INSERT INTO document_reviews (document_url, document_status, document_id)
            SELECT 'https://docs.example/' || g, 'PENDING_REVIEW', 'nl-' || g FROM generate_series(1, 50) g
            """)
        // A long transaction that has written the trail, still open.
        let longTransaction = try PostgresConnection(url: url)
        defer { longTransaction.close() }
        try longTransaction.execute("BEGIN")
        try longTransaction.query("INSERT INTO webhook_log (applied_at, webhook_id) VALUES (now(), 'long')")

        let upkeepClient = PostgresClient(url: url)
        defer { upkeepClient.shutdown() }
        async let upkeep = upkeepClient.withConnection { connection in
            try AuditLog().upkeep(retention: .seconds(86_400), now: Date(), on: connection)
        }
        // Wait until the detach is waiting for the long transaction.
        try waitUntil(timeout: .seconds(10), what: "the detach waiting") {
            let waiting = try connection.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE webhook_log DETACH%' AND wait_event_type = 'Lock'")
            return try waiting.rows.first?.int("n") == 1
        }
        // Meanwhile the verdict path runs, audit rows and all; a lock wait would hit the statement timeout instead.
        let hotPath = PostgresClient(url: url, sessionSettings: ["statement_timeout": "3000"])
        defer { hotPath.shutdown() }
        for batch in 0..<5 {
            let records = (1...10).map { index in
                VerdictRecord(webhookId: "hot-\(batch)-\(index)", timestamp: 1, verdict: ReviewVerdict(
                    agentId: "a", documentId: "nl-\(batch * 10 + index)", documentStatus: .accepted))
            }
            let outcomes = try await hotPath.withConnection { connection in try VerdictStore().apply(records, on: connection) }
            #expect(outcomes == [VerdictOutcome](repeating: .applied, count: 10))
        }
        try longTransaction.execute("COMMIT")
        let report = try await upkeep
        #expect(report.dropped == expired, "\(report)")
        #expect(try connection.query("SELECT count(*) AS n FROM webhook_log WHERE webhook_id LIKE 'hot-%'").rows.first?.int("n") == 50)
    }

    /// A concurrent detach cut short (its statement cancelled while it waited) leaves the partition "detach pending",
    /// which would block every later detach; upkeep finishes it and attaches the day's table again if the day is needed.
    @Test func aHalfDoneDetachIsFinishedAndTodayAttachedAgain() throws {
        let (url, connection) = try migratedDatabase("audit-pending")
        let today = AuditDay(containing: Date()).partitionName
        let reader = try PostgresConnection(url: url)
        defer { reader.close() }
        try reader.execute("BEGIN")
        try reader.query("SELECT count(*) FROM webhook_log")
        let detacher = try PostgresConnection(url: url)
        defer { detacher.close() }
        try detacher.execute("SET statement_timeout = 300")
        #expect(throws: PostgresError.self) {
            try detacher.execute("ALTER TABLE webhook_log DETACH PARTITION \"\(today)\" CONCURRENTLY")
        }
        try reader.execute("COMMIT")
        #expect(try AuditLog().partitions(on: connection).first { $0.name == today }?.detachPending == true)

        let report = try AuditLog().upkeep(retention: .seconds(30 * 86_400), on: connection)
        #expect(report.created == [today], "\(report)")
        let partitions = try AuditLog().partitions(on: connection)
        #expect(partitions.allSatisfy { !$0.detachPending })
        try connection.query("INSERT INTO webhook_log (applied_at, webhook_id) VALUES (now(), 'after')")
    }

    @Test func partitionNamesAndDays() throws {
        #expect(AuditDay(index: 0).compact == "19700101")
        #expect(AuditDay(index: 20_422).start == "2025-11-30 00:00:00+00")
        #expect(AuditDay(containing: Date(timeIntervalSince1970: 1_764_460_799)).compact == "20251129")
        #expect(AuditDay(containing: Date(timeIntervalSince1970: 1_764_460_800)).compact == "20251130")
        for index in stride(from: -1_000, to: 40_000, by: 37) {
            let day = AuditDay(index: index)
            #expect(AuditDay(compact: Substring(day.compact)) == day)
        }
        #expect(AuditDay.upperBound(ofPartition: "webhook_log_20251130") == Date(timeIntervalSince1970: 1_764_547_200))
        #expect(AuditDay.upperBound(ofPartition: "webhook_log_before_20251130") == Date(timeIntervalSince1970: 1_764_460_800))
        for name in ["webhook_log_2025113", "webhook_log_20251131", "webhook_log_20250229", "webhook_log_archive", "other_20251130"] {
            #expect(AuditDay.upperBound(ofPartition: name) == nil, "\(name)")
        }
    }
}
