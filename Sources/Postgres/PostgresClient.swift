import Confinement

/// An async Postgres client: one connection owned by a `ConfinedThread` (the pattern every C client here follows: its
/// shutdown and cancellation rules are that type's), opened lazily and reopened on the next call after a connection
/// error, so callers recover by themselves after a Postgres restart. libpq blocks: its calls never run on the
/// cooperative pool.
public final class PostgresClient: Sendable {
    /// One call: runs on the thread with the connection (and says whether the connection must be dropped after it), or
    /// is failed without one.
    private struct Job: ConfinedJob {
        let run: @Sendable (PostgresConnection) -> Bool
        let fail: @Sendable (any Error) -> Void

        func refuse(_ reason: JobRefusal) {
            fail(reason == .cancelled ? CancellationError() : PostgresClient.shutdownError)
        }
    }

    static let shutdownError = PostgresError(code: .connection, message: "the Postgres client is shut down")

    private let thread = ConfinedThread<Job>(name: "docket-postgres")

    /// Creates the client; nothing connects until the first call. `sessionSettings` (run-time parameters such as
    /// `plan_cache_mode`) are set on every connection the client opens, before it runs anything else.
    public init(url: String, sessionSettings: KeyValuePairs<String, String> = [:]) {
        let settings = sessionSettings.map { ($0.key, $0.value) }
        thread.start { thread in
            Self.runLoop(thread, url: url, sessionSettings: settings)
        }
    }

    /// Runs `body` with the connection on the client's thread. A connection error (thrown, or left behind by `body`)
    /// drops the connection, and the next call opens a new one. A task cancelled before `body` starts gets
    /// `CancellationError`; once started, `body` runs to its end.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await thread.perform { (continuation: CheckedContinuation<T, any Error>) in
            Job(
                run: { connection in
                    do {
                        continuation.resume(returning: try body(connection))
                        return !connection.isConnected
                    } catch {
                        continuation.resume(throwing: error)
                        return !connection.isConnected || (error as? PostgresError)?.isConnectionError == true
                    }
                },
                fail: { continuation.resume(throwing: $0) })
        }
    }

    /// Runs one parameterised statement.
    @discardableResult
    public func query(_ sql: String, _ params: [PostgresValue] = []) async throws -> PostgresResult {
        try await withConnection { connection in try connection.query(sql, params) }
    }

    /// Refuses queued and later calls (a connection error) at once, lets the call in hand finish, closes the connection,
    /// and returns when the thread has exited.
    public func shutdown() {
        thread.shutdown()
    }

    private static func runLoop(_ thread: ConfinedThread<Job>, url: String, sessionSettings: [(String, String)]) {
        var live: PostgresConnection?
        // One call at a time: those still queued stay cancellable and are refused at once by a shutdown.
        while let batch = thread.next(limit: 1) {
            for (_, job) in batch {
                let connection: PostgresConnection
                if let existing = live, existing.isConnected {
                    connection = existing
                } else {
                    live?.close()
                    live = nil
                    do {
                        connection = try PostgresConnection(url: url)
                        for (name, value) in sessionSettings {
                            try connection.query("SELECT set_config($1, $2, false)", [.text(name), .text(value)])
                        }
                    } catch {
                        // Each call tries its own connect, so the first one after Postgres is back succeeds.
                        job.fail(error)
                        continue
                    }
                    live = connection
                }
                if job.run(connection) {
                    connection.close()
                    live = nil
                }
            }
        }
        live?.close()
    }
}
