import Postgres
import Synchronization
import TestSupport
import Testing

@Suite("PostgresClient")
struct PostgresClientTests {
    @Test func queriesFromManyTasksShareOneConnection() async throws {
        let client = PostgresClient(url: try TestEnvironment.makeDatabase("pg-client"))
        defer { client.shutdown() }
        let pids = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let row = try await client.query("SELECT pg_backend_pid() AS pid, $1::int8 AS echo", [.int(index)]).rows.first
                    #expect(try row?.int("echo") == index)
                    return try row?.int("pid") ?? 0
                }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(pids.count == 1)
        let sum = try await client.withConnection { connection in
            try connection.transaction { tx in
                try tx.query("SELECT 40 + 2 AS n").rows.first?.int("n")
            }
        }
        #expect(sum == 42)
    }

    /// ConfinedThread's rules through the real client: a call cancelled while it waits never runs; a running one
    /// finishes; shutdown refuses what waits at once and returns after the call in hand.
    @Test func waitingCallsAreCancellableAndShutdownRefusesThem() async throws {
        let client = PostgresClient(url: try TestEnvironment.makeDatabase("pg-cancel"))
        let holding = Task { try await client.query("SELECT pg_sleep(0.5) AS slept") }
        try await Task.sleep(for: .milliseconds(100))
        let ran = Flag()
        let waiting = Task {
            try await client.withConnection { connection in
                ran.set()
                return try connection.query("SELECT 1 AS one").rows.count
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        holding.cancel()  // already running: it finishes
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(try await holding.value.rows.count == 1)
        #expect(!ran.isSet)

        let second = Task { try await client.query("SELECT pg_sleep(0.5) AS slept") }
        try await Task.sleep(for: .milliseconds(100))
        let queued = Task { try await client.query("SELECT 2 AS two") }
        try await Task.sleep(for: .milliseconds(50))
        client.shutdown()  // returns after the sleeping call; the queued one is refused
        #expect(try await second.value.rows.count == 1)
        await #expect(throws: PostgresError.self) { try await queued.value }
        await #expect(throws: PostgresError.self) { try await client.query("SELECT 3") }
    }

    @Test func recoversAfterTheBackendIsTerminated() async throws {
        let url = try TestEnvironment.makeDatabase("pg-terminate")
        let client = PostgresClient(url: url)
        defer { client.shutdown() }
        let firstPID = try #require(try await client.query("SELECT pg_backend_pid() AS pid").rows.first?.int("pid"))

        let admin = try PostgresConnection(url: url)
        #expect(try admin.query("SELECT pg_terminate_backend($1::int) AS ok", [.int(firstPID)]).rows.first?.bool("ok") == true)

        let secondPID = try await Self.firstSuccess(of: client)
        #expect(secondPID != firstPID)
    }

    @Test func sessionSettingsApplyToEveryConnectionItOpens() async throws {
        let url = try TestEnvironment.makeDatabase("pg-settings")
        let client = PostgresClient(url: url, sessionSettings: ["plan_cache_mode": "force_generic_plan", "work_mem": "8MB"])
        defer { client.shutdown() }
        let show = "SELECT pg_backend_pid() AS pid, current_setting('plan_cache_mode') AS mode, current_setting('work_mem') AS mem"
        let first = try #require(try await client.query(show).rows.first)
        #expect(first["mode"] == "force_generic_plan")
        #expect(first["mem"] == "8MB")

        // The replacement connection after a lost backend gets them too.
        let admin = try PostgresConnection(url: url)
        _ = try admin.query("SELECT pg_terminate_backend($1::int)", [.int(try #require(try first.int("pid")))])
        _ = try await Self.firstSuccess(of: client)
        let second = try #require(try await client.query(show).rows.first)
        #expect(second["pid"] != first["pid"])
        #expect(second["mode"] == "force_generic_plan")
        #expect(second["mem"] == "8MB")
        // Other clients are untouched.
        #expect(try admin.query(show).rows.first?["mode"] == "auto")

        // A setting Postgres refuses is a clear error, not a half-configured connection.
        let bad = PostgresClient(url: url, sessionSettings: ["no_such_setting_at_all": "1"])
        defer { bad.shutdown() }
        await #expect(throws: PostgresError.self) { try await bad.query("SELECT 1") }
    }

    @Test func recoversAfterPostgresRestarts() async throws {
        let server = try PostgresServerProcess.start()
        defer { server.stop() }
        let client = PostgresClient(url: try server.makeDatabase("pg-restart"))
        defer { client.shutdown() }
        let firstPID = try await client.query("SELECT pg_backend_pid() AS pid").rows.first?.int("pid")

        try server.restart()

        let secondPID = try await Self.firstSuccess(of: client)
        #expect(secondPID != firstPID)
        // And it stays healthy.
        #expect(try await client.query("SELECT 1 AS one").rows.first?.int("one") == 1)
    }

    @Test func aDownServerFailsWithAConnectionErrorThenRecovers() async throws {
        let server = try PostgresServerProcess.start()
        defer { server.stop() }
        let client = PostgresClient(url: try server.makeDatabase("pg-down"))
        defer { client.shutdown() }
        _ = try await client.query("SELECT 1")
        server.stop()
        for _ in 0..<2 {
            let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
            #expect(error?.isConnectionError == true)
        }
        try server.restart()
        #expect(try await client.query("SELECT 1 AS one").rows.first?.int("one") == 1)
    }

    /// The first call after the connection died may fail, but only with a connection error; the next one must succeed.
    private static func firstSuccess(of client: PostgresClient) async throws -> Int? {
        do {
            return try await client.query("SELECT pg_backend_pid() AS pid").rows.first?.int("pid")
        } catch let error as PostgresError {
            #expect(error.isConnectionError, "unexpected error: \(error)")
        }
        return try await client.query("SELECT pg_backend_pid() AS pid").rows.first?.int("pid")
    }
}

/// A one-way flag shared with a closure on the client's thread.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
