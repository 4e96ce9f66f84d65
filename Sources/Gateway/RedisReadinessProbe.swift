import Logging
import Queue
import Redis
import Runtime
import Synchronization

/// Pings Redis on every pooled connection every `interval` and caches the result for `/readyz` (so a probe storm never
/// reaches Redis); also refreshes the backlog gauge. Runs until graceful shutdown, then shuts the pool down.
final class RedisReadinessProbe: Service, Sendable {
    private let pool: RedisPool
    private let queue: EventQueue
    private let metrics: GatewayMetrics
    private let interval: Duration
    private let logger: Logger
    private let shutdown: ShutdownFlag
    private let ready = Atomic<Bool>(false)

    init(pool: RedisPool, queue: EventQueue, metrics: GatewayMetrics, interval: Duration, shutdown: ShutdownFlag, logger: Logger) {
        self.pool = pool
        self.queue = queue
        self.metrics = metrics
        self.interval = interval
        self.shutdown = shutdown
        self.logger = logger
    }

    /// The last probe's verdict: every pooled connection answered PING.
    var isReady: Bool { ready.load(ordering: .relaxed) }

    func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await refresh()
                try? await Task.sleep(for: interval)
            }
        } onGracefulShutdown: { [shutdown] in
            shutdown.begin()
        }
        ready.store(false, ordering: .relaxed)
        pool.shutdown()
    }

    /// One round: PING each client, then XLEN for the gauge.
    func refresh() async {
        var healthy = true
        var firstError: (any Error)?
        for client in pool.clients {
            do {
                _ = try await client.send(["PING"])
            } catch {
                healthy = false
                firstError = firstError ?? error
            }
        }
        if healthy, let backlog = try? await queue.backlog(on: pool.clients[0]) {
            metrics.backlog.record(backlog)
        }
        let was = ready.exchange(healthy, ordering: .relaxed)
        if was != healthy {
            if healthy {
                logger.info("Redis reachable: ready")
            } else {
                logger.warning("Redis unreachable: not ready", metadata: ["error": "\(firstError.map { "\($0)" } ?? "unknown")"])
            }
        }
    }
}
