import Postgres
import Queue
import Redis
import Runtime

/// Opens the services a docketctl subcommand needs, with errors that say what could not be reached and where.
enum OperatorConnections {
    /// Runs `body` with a Redis connection on a thread that owns it (never on the cooperative pool).
    static func withRedis<T: Sendable>(
        _ options: CommonOptions, _ body: @escaping @Sendable (RedisConnection, EventQueue) throws -> T
    ) async throws -> T {
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: options.redisURL)
        } catch {
            throw CommonOptions.invalidRedisURL(error.message)
        }
        let client = RedisClient(configuration: configuration)
        defer { client.shutdown() }
        let queue = EventQueue(prefix: options.redisPrefix)
        do {
            return try await client.withConnection { connection in try body(connection, queue) }
        } catch let error as RedisError where error.isConnectionError {
            throw OperatorError("cannot reach Redis at \(configuration.redactedURL): \(error.message)")
        }
    }

    /// Runs `body` with a Postgres connection on a thread that owns it.
    static func withPostgres<T: Sendable>(
        _ options: DatabaseOptions, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let client = PostgresClient(url: options.databaseURL)
        defer { client.shutdown() }
        return try await client.withConnection(body)
    }
}

/// A runtime failure reported to the operator as one line; exit code 1.
struct OperatorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
