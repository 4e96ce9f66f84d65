import Durations
public import Foundation
public import Postgres

/// The audit trail of applied verdicts, `webhook_log` (docs/reference.md §9): one row per applied webhook, written by the
/// verdict batch in the same transaction, in daily range partitions on `applied_at` (UTC days). Retention drops whole
/// partitions, so the table stops growing without a row ever being deleted, and upkeep never takes a lock the hot path
/// waits on:
/// - a partition is made as a plain table, then attached (`ATTACH PARTITION` takes SHARE UPDATE EXCLUSIVE on
///   `webhook_log`, which inserts do not conflict with);
/// - an expired one is detached with `DETACH PARTITION … CONCURRENTLY` (the same lock level; it waits for the
///   transactions that may still use it instead of blocking new ones), then dropped on its own.
///
/// Partitions are named after their day: `webhook_log_YYYYMMDD` holds [day, day + 1); `webhook_log_before_YYYYMMDD`
/// (from migration 3, the rows of `processed_webhooks`) holds everything before its day. There is no default partition
/// (`DETACH … CONCURRENTLY` refuses one), so upkeep keeps the partitions of today and the next `daysAhead` days made.
public struct AuditLog: Sendable {
    /// Partitions made beyond today: upkeep may fail for this many days before a worker lacks one.
    public var daysAhead: Int

    /// Session advisory lock that elects one upkeep runner at a time ("docket" in ASCII, plus one).
    static let upkeepLockKey = 0x646f_636b_6575

    public init(daysAhead: Int = 2) {
        self.daysAhead = daysAhead
    }

    /// What one upkeep run did.
    public struct UpkeepReport: Sendable, Hashable {
        /// False when another process held the upkeep lock: this run did nothing.
        public var ran: Bool
        public var created: [String] = []
        public var dropped: [String] = []
    }

    /// Makes the partitions for today and the next `daysAhead` days, then drops those wholly older than
    /// `now - retention` (nil: drop nothing). `now` defaults to Postgres's clock, the one `applied_at` is taken from, so a
    /// worker with a skewed clock plans the same days as the rows it writes. Runs only while holding the upkeep lock;
    /// returns `ran: false` if another process holds it. Safe to run again after a failure at any step (a half-done detach is finished, an expired table
    /// detached but not dropped is dropped). A table detached by hand and not expired is left alone.
    public func upkeep(retention: Duration?, now: Date? = nil, on connection: PostgresConnection) throws(PostgresError) -> UpkeepReport {
        let locked = try connection.query("SELECT pg_try_advisory_lock($1) AS locked, now() AS now", [.int(Self.upkeepLockKey)])
        guard let row = locked.rows.first, try row.bool("locked") == true else { return UpkeepReport(ran: false) }
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [.int(Self.upkeepLockKey)]) }
        let databaseNow = try row.date("now")
        let now = now ?? databaseNow ?? Date()

        var report = UpkeepReport(ran: true)
        // A detach left half-done blocks every other concurrent detach: finish it first, whatever its age. A table of a
        // day still needed is attached again just below; an expired one is dropped with the others.
        var partitions = try self.partitions(on: connection)
        let pending = partitions.filter(\.detachPending)
        for partition in pending {
            try connection.execute("ALTER TABLE webhook_log DETACH PARTITION \"\(partition.name)\" FINALIZE")
        }
        if !pending.isEmpty { partitions = try self.partitions(on: connection) }
        let existing = Set(partitions.map(\.name))
        let today = AuditDay(containing: now)
        for offset in 0...max(0, daysAhead) {
            let day = today.adding(days: offset)
            let name = day.partitionName
            guard !existing.contains(name) else { continue }
            try connection.execute("CREATE TABLE IF NOT EXISTS \"\(name)\" (LIKE webhook_log)")
            try connection.execute(
                "ALTER TABLE webhook_log ATTACH PARTITION \"\(name)\" FOR VALUES FROM ('\(day.start)') TO ('\(day.adding(days: 1).start)')")
            report.created.append(name)
        }

        guard let retention else { return report }
        let cutoff = now.addingTimeInterval(-retention.seconds)
        for partition in partitions {
            guard let upper = partition.upperBound, upper <= cutoff else { continue }
            try connection.execute("ALTER TABLE webhook_log DETACH PARTITION \"\(partition.name)\" CONCURRENTLY")
            try connection.execute("DROP TABLE \"\(partition.name)\"")
            report.dropped.append(partition.name)
        }
        // An expired partition that an earlier run detached (or this one finished detaching above) but did not drop.
        let detached = try connection.query(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
              AND c.relname LIKE 'webhook\\_log\\_%'
            """)
        for row in detached.rows {
            let name = try row.string("relname")
            guard let upper = AuditDay.upperBound(ofPartition: name), upper <= cutoff else { continue }
            try connection.execute("DROP TABLE \"\(name)\"")
            report.dropped.append(name)
        }
        return report
    }

    /// One partition of `webhook_log`.
    public struct Partition: Sendable, Hashable {
        public var name: String
        /// Where its range ends; nil for a table whose name is not one of the audit's (left alone).
        public var upperBound: Date?
        /// Half-detached by an interrupted `DETACH … CONCURRENTLY`.
        public var detachPending: Bool
        public var bytes: Int
    }

    /// The partitions of `webhook_log`, oldest range first.
    public func partitions(on connection: PostgresConnection) throws(PostgresError) -> [Partition] {
        let rows = try connection.query(
            """
            SELECT c.relname, i.inhdetachpending, pg_total_relation_size(c.oid) AS bytes
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'webhook_log'::regclass
            """).rows
        var partitions: [Partition] = []
        for row in rows {
            let name = try row.string("relname")
            partitions.append(Partition(
                name: name, upperBound: AuditDay.upperBound(ofPartition: name),
                detachPending: try row.bool("inhdetachpending") ?? false, bytes: try row.int("bytes") ?? 0))
        }
        return partitions.sorted { ($0.upperBound ?? .distantFuture, $0.name) < ($1.upperBound ?? .distantFuture, $1.name) }
    }

    /// Size and age of the trail, for `docketctl stats`.
    public struct Summary: Sendable, Hashable {
        public var partitions: Int
        /// On disk, indexes and TOAST included.
        public var bytes: Int
        /// `applied_at` of the oldest row, nil when the trail is empty.
        public var oldest: Date?
    }

    /// Sizes from the catalog; the oldest row from the first pages of the oldest non-empty partition. Partitions are
    /// append-only, so their first pages hold their first rows: exact to within concurrent writers' page switches, and
    /// cheap however big the trail is (a TID range scan, no index needed).
    public func summary(on connection: PostgresConnection) throws(PostgresError) -> Summary {
        // A database not migrated to version 3 yet has no trail.
        let exists = try connection.query("SELECT to_regclass('webhook_log') IS NOT NULL AS present").rows.first?.bool("present")
        guard exists == true else { return Summary(partitions: 0, bytes: 0, oldest: nil) }
        let partitions = try self.partitions(on: connection)
        var oldest: Date?
        for partition in partitions where partition.bytes > 0 {
            let row = try connection.query(
                "SELECT min(applied_at) AS oldest FROM \"\(partition.name)\" WHERE ctid < '(16,0)'::tid").rows.first
            if let date = try row?.date("oldest") {
                oldest = date
                break
            }
        }
        return Summary(partitions: partitions.count, bytes: partitions.reduce(0) { $0 + $1.bytes }, oldest: oldest)
    }

    /// True for the error an insert gets when no partition holds its row: the trail's upkeep is behind, which is the
    /// infrastructure's fault, never the event's. Told apart by the table the server names (a check violation on
    /// `webhook_log`, which has no CHECK constraint of its own), not by the message, which the server may translate.
    public static func isMissingPartition(_ error: PostgresError) -> Bool {
        error.sqlState == "23514" && error.table == "webhook_log"
    }
}

/// A UTC calendar day, the unit of `webhook_log`'s partitions.
struct AuditDay: Sendable, Hashable {
    /// Days since 1970-01-01.
    var index: Int

    init(index: Int) {
        self.index = index
    }

    init(containing date: Date) {
        index = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    func adding(days: Int) -> AuditDay {
        AuditDay(index: index + days)
    }

    /// Midnight UTC as a timestamptz literal.
    var start: String {
        let (year, month, day) = civil
        return "\(Self.digits(year, 4))-\(Self.digits(month, 2))-\(Self.digits(day, 2)) 00:00:00+00"
    }

    var startDate: Date {
        Date(timeIntervalSince1970: Double(index) * 86_400)
    }

    /// `YYYYMMDD`.
    var compact: String {
        let (year, month, day) = civil
        return Self.digits(year, 4) + Self.digits(month, 2) + Self.digits(day, 2)
    }

    var partitionName: String { "webhook_log_\(compact)" }

    /// Where a partition named by `AuditLog`'s scheme ends; nil for any other name.
    static func upperBound(ofPartition name: String) -> Date? {
        if name.hasPrefix("webhook_log_before_") {
            return AuditDay(compact: name.dropFirst("webhook_log_before_".count))?.startDate
        }
        if name.hasPrefix("webhook_log_") {
            return AuditDay(compact: name.dropFirst("webhook_log_".count))?.adding(days: 1).startDate
        }
        return nil
    }

    /// Parses `YYYYMMDD` (a real date, round-tripping exactly).
    init?(compact text: Substring) {
        guard text.count == 8, text.allSatisfy(\.isASCII), let value = Int(text) else { return nil }
        let components = DateComponents(year: value / 10_000, month: value / 100 % 100, day: value % 100)
        guard let date = Self.calendar.date(from: components) else { return nil }
        let parsed = AuditDay(containing: date)
        guard parsed.compact == text else { return nil }
        self = parsed
    }

    /// (year, month, day) of the day, in UTC.
    var civil: (Int, Int, Int) {
        let components = Self.calendar.dateComponents([.year, .month, .day], from: startDate)
        return (components.year ?? 1970, components.month ?? 1, components.day ?? 1)
    }

    /// The Gregorian calendar in UTC: partitions hold UTC days.
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
    }()

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

extension AuditLog {
    /// Rows ever inserted into the trail's partitions, from the statistics collector: one per applied verdict (while
    /// the trail is kept), counted without reading the trail. Rates come from two readings; the count lags commits
    /// by up to a second, counts rolled-back inserts too, and drops when a partition is dropped or statistics reset.
    static let insertedRowsSQL = """
        SELECT coalesce(sum(stats.n_tup_ins), 0)::bigint AS inserted
        FROM pg_stat_user_tables AS stats JOIN pg_inherits AS child ON child.inhrelid = stats.relid
        WHERE child.inhparent = to_regclass('webhook_log')
        """

    public func insertedRows(on connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.query(Self.insertedRowsSQL).rows.first?.int("inserted") ?? 0
    }
}
