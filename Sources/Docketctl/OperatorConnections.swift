import Queue
import Runtime
import Store

/// Opens the services a docketctl subcommand needs and closes them after; an unreachable service is reported as
/// `QueueUnavailable` / `StoreUnavailable`, whose one line says what could not be reached and where.
enum OperatorConnections {
    /// The queue at `--redis-url` (a cluster with `--redis-cluster`) under `--redis-prefix`, every one of its `--partitions`; a malformed URL is a
    /// configuration error (exit 2).
    static func queue(_ options: CommonOptions) throws -> PartitionedQueue {
        do {
            return PartitionedQueue(
                endpoint: try QueueEndpoint(url: options.redisURL, cluster: options.redisCluster),
                partitioning: Partitioning(prefix: options.redisPrefix, count: options.partitions))
        } catch {
            throw CommonOptions.invalidRedisURL(error.message)
        }
    }

    static func withQueue<T>(_ options: CommonOptions, _ body: (PartitionedQueue) async throws -> T) async throws -> T {
        let client = try queue(options)
        defer { client.shutdown() }
        return try await body(client)
    }

    static func withStore<T>(_ options: DatabaseOptions, _ body: (StoreClient) async throws -> T) async throws -> T {
        let client = StoreClient(url: options.databaseURL)
        defer { client.shutdown() }
        return try await body(client)
    }
}

/// A runtime failure reported to the operator as one line; exit code 1.
struct OperatorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
