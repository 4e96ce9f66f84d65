public import Logging
import Redis
import Synchronization

/// The gateway's view of a Redis Cluster's slot map, shared by every event loop (docs/scaling.md): loaded from the
/// seeds at start, reloaded every second and at once when a loop asks (a redirect, a lost link). Loops compare
/// `generation` on their hot path (one atomic load) and re-resolve their links only when it moved.
public final class ClusterMapWatcher: Sendable {
    private let client: RedisClusterClient
    private let logger: Logger
    private let current = Mutex<ClusterSlotMap?>(nil)
    private let generationCounter = Atomic<Int>(0)
    private let refreshWanted = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// How often the map is reloaded without being asked.
    private let interval: Duration

    public init(endpoint: QueueEndpoint, interval: Duration = .seconds(1), logger: Logger) {
        guard case .cluster(let cluster) = endpoint.kind else {
            preconditionFailure("ClusterMapWatcher needs a cluster endpoint")
        }
        var template = cluster.template
        // A map request should not wait long on a dead node: the next seed is tried instead.
        template.commandTimeout = .seconds(1)
        client = RedisClusterClient(seeds: cluster.seeds, template: template, maxAttempts: 1)
        self.interval = interval
        self.logger = logger
    }

    /// Bumped every time the map changes (0: none loaded yet).
    public var generation: Int { generationCounter.load(ordering: .acquiring) }

    /// The map loaded last, nil before the first load.
    var map: ClusterSlotMap? { current.withLock { $0 } }

    /// Asks for a reload as soon as possible (from any thread; requests while one is pending merge).
    public func requestRefresh() {
        refreshWanted.store(true, ordering: .relaxed)
    }

    /// Reloads until `stop`: every `interval`, or soon after a request (at most ten reloads a second).
    public func run() async {
        var lastError = ""
        while !stopped.load(ordering: .relaxed) && !Task.isCancelled {
            refreshWanted.store(false, ordering: .relaxed)
            do {
                try await client.refreshMap()
                let loaded = try await client.slotMap()
                let changed = current.withLock { map -> Bool in
                    guard map != loaded else { return false }
                    map = loaded
                    return true
                }
                if changed {
                    generationCounter.add(1, ordering: .releasing)
                    logger.info("Redis Cluster slot map loaded", metadata: [
                        "primaries": "\(loaded.primaries.map(\.description).joined(separator: ","))",
                        "covers_all_slots": "\(loaded.coversAllSlots)",
                    ])
                }
                lastError = ""
            } catch {
                let message = "\(error)"
                if message != lastError {
                    logger.warning("Cannot load the Redis Cluster slot map", metadata: ["error": "\(message)"])
                    lastError = message
                }
            }
            // A request is honoured after at least 100 ms: a burst of refused sends asks many times for one reload.
            var waited = Duration.zero
            while waited < interval && !(refreshWanted.load(ordering: .relaxed) && waited >= .milliseconds(100))
                && !stopped.load(ordering: .relaxed) {
                guard (try? await Task.sleep(for: .milliseconds(20))) != nil else { return }
                waited += .milliseconds(20)
            }
        }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        client.shutdown()
    }
}
