import Queue
import Runtime
import Synchronization

/// What all event loops share and read from any thread: metrics, the shutdown flag, every loop's Redis link status
/// (for `/readyz`) and the metrics exposition.
final class GatewayProcessState: Sendable {
    let metrics: GatewayMetrics
    let shutdown: ShutdownFlag
    let requestIDPrefix: String
    /// The Prometheus text served on `/metrics`.
    let exposition: @Sendable () -> [UInt8]
    private let links = Mutex<[QueueRouterStatus]>([])

    init(metrics: GatewayMetrics, shutdown: ShutdownFlag, exposition: @escaping @Sendable () -> [UInt8]) {
        self.metrics = metrics
        self.shutdown = shutdown
        self.exposition = exposition
        self.requestIDPrefix = RequestIDGenerator.makeProcessPrefix()
    }

    func register(_ link: QueueRouterStatus) {
        links.withLock { $0.append(link) }
    }

    /// Ready when shutdown has not begun and every loop's Redis links are up (on a cluster, one to each partition's primary).
    var readiness: Readiness {
        if shutdown.isShuttingDown { return .shuttingDown }
        let allUp = links.withLock { links in !links.isEmpty && links.allSatisfy(\.isReady) }
        return allUp ? .ready : .notReady
    }

    enum Readiness {
        case ready
        case notReady
        case shuttingDown
    }
}
