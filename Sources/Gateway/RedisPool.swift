import Redis
import Synchronization

/// A few auto-pipelining `RedisClient`s used round-robin, so one slow batch holds up only its own connection's callers.
final class RedisPool: Sendable {
    let clients: [RedisClient]
    private let cursor = Atomic<Int>(0)

    /// Opens `size` clients (each connects lazily on first use).
    init(configuration: RedisConfiguration, size: Int) {
        clients = (0..<max(1, size)).map { _ in RedisClient(configuration: configuration) }
    }

    /// The next client in turn.
    func next() -> RedisClient {
        let n = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return clients[Int(UInt(bitPattern: n) % UInt(clients.count))]
    }

    /// Stops every client's thread.
    func shutdown() {
        for client in clients { client.shutdown() }
    }
}
