import Foundation
import Postgres
import TestSupport
import Testing

@Suite("PostgresConnection")
struct PostgresConnectionTests {
    @Test func scalarsAndNullsRoundTrip() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-scalars"))
        // A whole number of microseconds, the precision timestamptz keeps.
        let moment = Date(timeIntervalSince1970: 1_709_210_096.123456)
        let result = try connection.query(
            "SELECT $1::text AS t, $2::int8 AS i, $3::bool AS b, $4::timestamptz AS ts, $5::text AS n, $6::float8 AS d, $7::bytea AS raw, $8::text AS empty",
            [.text("héllo 'quoted' \"double\" \\ back"), .int(-9_007_199_254_740_993), .bool(true), .timestamp(moment), .null,
             .double(0.1), .bytea([0, 1, 254, 255]), .text("")]
        )
        let row = try #require(result.rows.first)
        #expect(result.columns == ["t", "i", "b", "ts", "n", "d", "raw", "empty"])
        #expect(try row.string("t") == "héllo 'quoted' \"double\" \\ back")
        #expect(try row.int("i") == -9_007_199_254_740_993)
        #expect(try row.bool("b") == true)
        let decoded = try #require(try row.date("ts"))
        #expect(abs(decoded.timeIntervalSince(moment)) < 0.000_001)
        #expect(row["n"] == nil)
        #expect(row.isNull("n"))
        #expect(try row.int("n") == nil)
        #expect(try row.date("n") == nil)
        #expect(try row.double("d") == 0.1)
        #expect(try row.bytes("raw") == [0, 1, 254, 255])
        // An empty string is not NULL.
        #expect(row["empty"] == "")
        #expect(!row.isNull("empty"))
        #expect(throws: PostgresError.self) { try row.string("n") }
        #expect(throws: PostgresError.self) { try row.int("missing") }
    }

    @Test func timestampsInOtherZonesDecodeToTheSameInstant() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-tz"))
        try connection.execute("SET TimeZone TO 'Asia/Kolkata'")
        let row = try #require(try connection.query(
            "SELECT '2024-02-29 12:34:56.5+00'::timestamptz AS ts, ts_text FROM (SELECT '2024-02-29 12:34:56.5+00'::timestamptz::text AS ts_text) s"
        ).rows.first)
        #expect(try row.string("ts_text") == "2024-02-29 18:04:56.5+05:30")
        let date = try #require(try row.date("ts"))
        #expect(date.timeIntervalSince1970 == 1_709_210_096.5)
        // Timestamps before 1970 and the infinities.
        let old = try #require(try connection.query("SELECT '1969-07-20 20:17:40+00'::timestamptz AS ts").rows.first)
        #expect(try old.date("ts")?.timeIntervalSince1970 == -14_182_940)
        let infinite = try #require(try connection.query("SELECT 'infinity'::timestamptz AS ts").rows.first)
        #expect(try infinite.date("ts") == .distantFuture)
    }

    @Test func arraysRoundTripWithAwkwardElements() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-arrays"))
        let texts: [String?] = [
            "plain", "with \"quotes\"", "a,b", "back\\slash", "{braces}", "", " spaced ", "NULL", nil, "ünïcödé", "tab\there", "end\\",
        ]
        let ints: [Int?] = [1, nil, -3, Int.max, Int.min]
        let row = try #require(try connection.query(
            """
            SELECT $1::text[] AS texts, $2::int8[] AS ints, cardinality($1::text[]) AS n,
                   ($1::text[])[9] IS NULL AS ninth_is_null, ($1::text[])[8] AS eighth, ($1::text[])[2] AS second,
                   $3::text[] AS empty
            """,
            [.textArray(texts), .intArray(ints), .textArray([])]
        ).rows.first)
        // The server saw the elements exactly: count, a real NULL, and the word NULL as text.
        #expect(try row.int("n") == texts.count)
        #expect(try row.bool("ninth_is_null") == true)
        #expect(row["eighth"] == "NULL")
        #expect(row["second"] == "with \"quotes\"")
        #expect(try row.stringArray("texts") == texts)
        #expect(try row.intArray("ints") == ints)
        #expect(try row.stringArray("empty") == [])

        // Arrays are usable as set parameters, e.g. `= ANY($1)`.
        try connection.execute("CREATE TABLE items (name text)")
        try connection.query("INSERT INTO items SELECT unnest($1::text[])", [.textArray(["a,b", "c\"d", "e"])])
        let matched = try connection.query("SELECT name FROM items WHERE name = ANY($1) ORDER BY name", [.textArray(["a,b", "c\"d"])])
        #expect(matched.rows.map { $0["name"] } == ["a,b", "c\"d"])
    }

    @Test func preparedStatementsRunAgainWithNewParameters() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-prepared"))
        try connection.execute("CREATE TABLE items (id int8 PRIMARY KEY, name text NOT NULL)")
        let insert = "INSERT INTO items SELECT * FROM unnest($1::int8[], $2::text[]) RETURNING id"
        for round in 0..<3 {
            let ids = (0..<4).map { round * 4 + $0 }
            let result = try connection.queryPrepared(insert, [.intArray(ids), .textArray(ids.map { "item \"\($0)\"" })])
            #expect(try result.rows.map { try $0.int("id") } == ids)
        }
        // The server holds one prepared statement per SQL text, not one per call.
        let count = "SELECT count(*) AS n FROM items WHERE name LIKE $1"
        #expect(try connection.queryPrepared(count, [.text("item%")]).rows.first?.int("n") == 12)
        #expect(try connection.queryPrepared(count, [.text("item \"1%")]).rows.first?.int("n") == 3)
        #expect(try connection.query("SELECT count(*) AS n FROM pg_prepared_statements").rows.first?.int("n") == 2)
        // A failed execution leaves the statement usable; a statement that fails to prepare is not remembered.
        #expect(throws: PostgresError.self) { try connection.queryPrepared(insert, [.intArray([0]), .textArray(["again"])]) }
        #expect(try connection.queryPrepared(count, [.text("again")]).rows.first?.int("n") == 0)
        let error = #expect(throws: PostgresError.self) { try connection.queryPrepared("SELEC 1", []) }
        #expect(error?.sqlState == "42601")
        #expect(throws: PostgresError.self) { try connection.queryPrepared("SELEC 1", []) }
        #expect(try connection.query("SELECT count(*) AS n FROM pg_prepared_statements").rows.first?.int("n") == 2)
    }

    @Test func uniqueViolationCarriesSQLState() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-unique"))
        try connection.execute("CREATE TABLE things (id text PRIMARY KEY)")
        try connection.query("INSERT INTO things VALUES ($1)", ["one"])
        let error = try #require(throws: PostgresError.self) {
            try connection.query("INSERT INTO things VALUES ($1)", ["one"])
        }
        #expect(error.code == .server)
        #expect(error.sqlState == "23505")
        #expect(error.message.contains("duplicate key"))
        #expect(!error.isConnectionError)
        #expect(!error.isRetryableConflict)
        // The connection is still usable after a statement error.
        #expect(try connection.query("SELECT count(*) AS n FROM things").rows.first?.int("n") == 1)
    }

    @Test func transactionCommitsOrLeavesNoTrace() throws {
        struct Abort: Error {}
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-tx"))
        try connection.execute("CREATE TABLE ledger (entry text)")
        #expect(throws: Abort.self) {
            try connection.transaction { tx in
                try tx.query("INSERT INTO ledger VALUES ($1)", ["lost"])
                throw Abort()
            }
        }
        // A server error inside the body rolls back too.
        #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.query("INSERT INTO ledger VALUES ($1)", ["lost too"])
                try tx.query("SELECT 1/0")
            }
        }
        let kept = try connection.transaction { tx in
            try tx.query("INSERT INTO ledger VALUES ($1) RETURNING entry", ["kept"]).rows.first?["entry"]
        }
        #expect(kept == "kept")
        let rows = try connection.query("SELECT entry FROM ledger").rows
        #expect(rows.map { $0["entry"] } == ["kept"])
    }

    @Test func listenReceivesNotifyFromAnotherConnection() throws {
        let url = try TestEnvironment.makeDatabase("pg-listen")
        let listener = try PostgresConnection(url: url)
        let sender = try PostgresConnection(url: url)
        try listener.listen("docket_reviews")

        let start = ContinuousClock.now
        #expect(try listener.waitForNotifications(timeout: .milliseconds(200)) == [])
        #expect(ContinuousClock.now - start >= .milliseconds(190))

        try sender.query("SELECT pg_notify($1, $2)", ["docket_reviews", "42"])
        try sender.execute("NOTIFY docket_reviews")
        var received: [PostgresNotification] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while received.count < 2, ContinuousClock.now < deadline {
            received += try listener.waitForNotifications(timeout: .seconds(5))
        }
        #expect(received == [
            PostgresNotification(channel: "docket_reviews", payload: "42", pid: sender.backendPID),
            PostgresNotification(channel: "docket_reviews", payload: "", pid: sender.backendPID),
        ])

        // A notification that arrives while the listener waits wakes it promptly.
        let url2 = url
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            if let late = try? PostgresConnection(url: url2) {
                _ = try? late.query("SELECT pg_notify('docket_reviews', 'late')")
            }
        }
        thread.start()
        let waitStart = ContinuousClock.now
        let late = try listener.waitForNotifications(timeout: .seconds(10))
        #expect(late.map(\.payload) == ["late"])
        #expect(ContinuousClock.now - waitStart < .seconds(5))
    }

    @Test func pipelineRunsAThousandStatements() throws {
        let connection = try PostgresConnection(url: TestEnvironment.makeDatabase("pg-pipeline"))
        try connection.execute("CREATE TABLE events (id int8 PRIMARY KEY, label text)")
        let statements: [(sql: String, params: [PostgresValue])] = (0..<1000).map { index in
            ("INSERT INTO events VALUES ($1, $2)", [.int(index), .text("event \(index)")])
        }
        let results = try connection.pipeline(statements)
        #expect(results.count == 1000)
        #expect(results.allSatisfy { $0.affectedRows == 1 })
        #expect(try connection.query("SELECT count(*) AS n FROM events").rows.first?.int("n") == 1000)

        // Results of queries come back in order.
        let selects = try connection.pipeline([
            (sql: "SELECT label FROM events WHERE id = $1", params: [.int(7)]),
            (sql: "SELECT label FROM events WHERE id = $1", params: [.int(999)]),
        ])
        #expect(selects.map { $0.rows.first?["label"] } == ["event 7", "event 999"])

        // A failing statement rolls back the whole batch and reports the first error; the connection stays usable.
        let error = try #require(throws: PostgresError.self) {
            try connection.pipeline([
                (sql: "INSERT INTO events VALUES ($1, $2)", params: [.int(5000), "new"]),
                (sql: "INSERT INTO events VALUES ($1, $2)", params: [.int(1), "duplicate"]),
                (sql: "INSERT INTO events VALUES ($1, $2)", params: [.int(5001), "skipped"]),
            ])
        }
        #expect(error.sqlState == "23505")
        #expect(try connection.query("SELECT count(*) AS n FROM events").rows.first?.int("n") == 1000)
        #expect(try connection.pipeline([]).isEmpty)
    }

    @Test func failedConnectRedactsThePassword() throws {
        // Nothing listens on port 1: the connect fails at once.
        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection(url: "postgresql://docket:s3cret-pw@127.0.0.1:1/docket")
        }
        #expect(error.isConnectionError)
        #expect(!error.description.contains("s3cret-pw"))
        #expect(error.description.contains("docket:***@127.0.0.1"))
    }
}
