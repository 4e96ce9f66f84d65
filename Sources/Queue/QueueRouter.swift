public import Logging
public import NIOCore
import Redis
import Synchronization

/// The gateway's queue on one event loop (docs/architecture.md, "Each process's job"; docs/scaling.md): one `QueueLink`
/// to a single Redis, or, on a cluster, one link per primary that serves a partition, chosen per command by the
/// partition's slot through the shared `ClusterMapWatcher`. A reply that says the cluster moved on (a redirect,
/// `CLUSTERDOWN`, `TRYAGAIN`) or a lost link asks for a fresh map; the command that met it gets its error (the
/// webhook a 503), and later ones go where the map says once it has been reloaded. Confined to `eventLoop`.
public final class QueueRouter {
    public let eventLoop: any EventLoop
    /// Ready when every partition's link is up; readable from any thread.
    public let status = QueueRouterStatus()
    private let configuration: QueueLink.Configuration
    private let logger: Logger
    private let watcher: ClusterMapWatcher?
    /// The single server's link; nil on a cluster.
    private let single: QueueLink?
    /// Each partition's slot (cluster only).
    private let slots: [Int]
    /// Each partition's link under the map of `generation` (cluster only).
    private var partitionLinks: [QueueLink?] = []
    private var links: [ClusterNode: QueueLink] = [:]
    private var generation = 0
    private var resolver: Scheduled<Void>?
    private var closed = false

    /// Call on `eventLoop`; nothing connects until `start`. `watcher` is required for a cluster endpoint.
    public init(
        configuration: QueueLink.Configuration, partitioning: Partitioning, watcher: ClusterMapWatcher?,
        eventLoop: any EventLoop, logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        if configuration.endpoint.isCluster, let watcher {
            self.watcher = watcher
            single = nil
            slots = partitioning.allKeys.map { ClusterSlot.of($0.events) }
            partitionLinks = Array(repeating: nil, count: slots.count)
        } else {
            self.watcher = nil
            let link = QueueLink(configuration: configuration, eventLoop: eventLoop, logger: logger)
            single = link
            slots = []
            status.use([link.status])
        }
    }

    /// Connects (and keeps reconnecting) until `close`; on a cluster, follows the map every ping interval.
    public func start() {
        if let single {
            single.start()
            return
        }
        resolve()
        scheduleResolve()
    }

    private func scheduleResolve() {
        guard !closed else { return }
        resolver = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(configuration.pingInterval)) { [weak self] in
            self?.resolve()
            self?.scheduleResolve()
        }
    }

    /// Sends `caller`'s command on the link of `partition` and returns that link (a follow-up that must run on the same
    /// connection, such as `ReplicaWait`, goes through it). Refused while that link is down or saturated, or while no
    /// primary is known for the partition.
    @discardableResult
    public func send(_ caller: QueueCaller, partition: Int) throws(QueueSendRefusal) -> QueueLink {
        if let single {
            try single.send(caller)
            return single
        }
        if let watcher, watcher.generation != generation { resolve() }
        guard partition < partitionLinks.count, let link = partitionLinks[partition] else {
            watcher?.requestRefresh()
            throw .unavailable
        }
        do {
            try link.send(caller)
        } catch {
            if error == .unavailable { watcher?.requestRefresh() }
            throw error
        }
        return link
    }

    /// Closes every link (what is pending fails with `QueueLinkFailure`).
    public func close() -> EventLoopFuture<Void> {
        closed = true
        resolver?.cancel()
        resolver = nil
        if let single { return single.close() }
        let all = Array(links.values)
        links.removeAll()
        partitionLinks = partitionLinks.map { _ in nil }
        status.use(nil)
        return EventLoopFuture.andAllComplete(all.map { $0.close() }, on: eventLoop)
    }

    /// Points each partition at its slot's primary under the watcher's current map, opening links to new primaries and
    /// closing links no partition uses any more.
    private func resolve() {
        guard !closed, let watcher else { return }
        let current = watcher.generation
        guard current != generation, let map = watcher.map else { return }
        generation = current
        var used: [ClusterNode: QueueLink] = [:]
        for (partition, slot) in slots.enumerated() {
            guard let node = map.primary(for: slot) else {
                partitionLinks[partition] = nil
                continue
            }
            let link: QueueLink
            if let existing = used[node] ?? links[node] {
                link = existing
            } else {
                link = QueueLink(configuration: configuration, node: node, eventLoop: eventLoop, logger: logger)
                link.onClusterTrouble = { [weak watcher] in watcher?.requestRefresh() }
                link.start()
            }
            used[node] = link
            partitionLinks[partition] = link
        }
        for (node, link) in links where used[node] == nil {
            logger.info("Closing the link to a node that serves no partition now", metadata: ["node": "\(node)"])
            _ = link.close()
        }
        links = used
        let covered = partitionLinks.allSatisfy { $0 != nil }
        status.use(covered ? used.values.map(\.status) : nil)
    }
}

/// Whether a router's links are all up, readable from any thread (`/readyz`).
public final class QueueRouterStatus: Sendable {
    private let links = Mutex<[QueueLinkStatus]?>(nil)

    /// The links in use; nil while some partition has none.
    func use(_ statuses: [QueueLinkStatus]?) {
        links.withLock { $0 = statuses }
    }

    public var isReady: Bool {
        links.withLock { links in
            guard let links, !links.isEmpty else { return false }
            return links.allSatisfy(\.isReady)
        }
    }
}
