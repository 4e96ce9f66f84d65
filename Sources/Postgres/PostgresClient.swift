import Dispatch
import Synchronization

/// An async Postgres client: one connection owned by a dedicated serial queue, opened lazily and reopened on the
/// next call after a connection error, so callers recover by themselves after a Postgres restart.
public final class PostgresClient: Sendable {
    private struct State {
        var connection: PostgresConnection?
    }

    private let url: String
    /// Run settings applied to every connection this client opens (`set_config`, session scope).
    private let sessionSettings: KeyValuePairs<String, String>
    /// Every libpq call runs here, never on the cooperative pool: libpq blocks.
    private let queue: DispatchQueue
    /// Only touched on `queue`; the Mutex is what lets a Sendable class own the non-Sendable connection.
    private let state = Mutex(State())
    private let isShutdown = Atomic<Bool>(false)

    /// Creates the client; nothing connects until the first call. `sessionSettings` (run-time parameters such as
    /// `plan_cache_mode`) are set on every connection the client opens, before it runs anything else.
    public init(url: String, sessionSettings: KeyValuePairs<String, String> = [:]) {
        self.url = url
        self.sessionSettings = sessionSettings
        self.queue = DispatchQueue(label: "docket.postgres.client")
    }

    /// Runs `body` with the connection on the client's thread. A connection error (thrown, or left behind by `body`)
    /// drops the connection, and the next call opens a new one.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.async {
                continuation.resume(with: Result { try self.run(body) })
            }
        }
    }

    /// Runs one parameterised statement.
    @discardableResult
    public func query(_ sql: String, _ params: [PostgresValue] = []) async throws -> PostgresResult {
        try await withConnection { connection in try connection.query(sql, params) }
    }

    /// Closes the connection; later calls throw a connection error.
    public func shutdown() {
        isShutdown.store(true, ordering: .releasing)
        queue.async {
            self.state.withLock { $0.connection = nil }
        }
    }

    private func run<T: Sendable>(_ body: (PostgresConnection) throws -> T) throws -> T {
        guard !isShutdown.load(ordering: .acquiring) else {
            throw PostgresError(code: .connection, message: "the Postgres client is shut down")
        }
        return try state.withLock { state throws -> T in
            let connection: PostgresConnection
            if let existing = state.connection, existing.isConnected {
                connection = existing
            } else {
                state.connection = nil
                connection = try PostgresConnection(url: url)
                for (name, value) in sessionSettings {
                    try connection.query("SELECT set_config($1, $2, false)", [.text(name), .text(value)])
                }
                state.connection = connection
            }
            do {
                return try body(connection)
            } catch {
                if !connection.isConnected || (error as? PostgresError)?.isConnectionError == true {
                    connection.close()
                    state.connection = nil
                }
                throw error
            }
        }
    }
}
