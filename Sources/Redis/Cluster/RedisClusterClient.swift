import Foundation
import Synchronization

/// A Redis Cluster client for the processes that use `RedisClient` (docs/scaling.md): one `RedisClient` per primary,
/// each command routed by its key's slot through the slot map (`CLUSTER SHARDS`, loaded from any reachable seed).
/// It follows `MOVED` (refresh the map, retry on the new owner), `ASK` (`ASKING`, then once on the target; the map
/// stays), retries `TRYAGAIN` and `CLUSTERDOWN` with backoff, and, when a node is lost, refreshes the map (a replica
/// may have taken over) and retries — all bounded by `maxAttempts`, after which the last error is thrown (a
/// connection error stays one: the caller's usual "infrastructure" path).
public final class RedisClusterClient: Sendable {
    public let seeds: [ClusterNode]
    /// Timeouts and credentials for every node's connection; host and port come from the map.
    public let template: RedisConfiguration
    public let maxAttempts: Int

    private struct State {
        var map: ClusterSlotMap?
        var clients: [ClusterNode: RedisClient] = [:]
        /// Nodes a command was routed to (not only asked for the map): their connections are kept across refreshes.
        var commandNodes: Set<ClusterNode> = []
        /// Refreshes started and the newest one installed: an older map finishing late is not installed over a newer.
        var refreshesStarted = 0
        var installedRefresh = 0
        var isShutDown = false
    }

    private let state = Mutex(State())

    /// With the default 8 attempts the waits add up to about 3.5 s: enough for a failover under a 2 s node timeout.
    public init(seeds: [ClusterNode], template: RedisConfiguration, maxAttempts: Int = 8) {
        self.seeds = seeds
        self.template = template
        self.maxAttempts = max(1, maxAttempts)
    }

    /// Runs `body` on the connection of the primary that serves `slot` (every key `body` touches must be in that
    /// slot). On a redirect or a lost node `body` runs again, so it must be safe to repeat — Docket's queue operations
    /// are (their scripts check before they change). Under `ASK`, `ASKING` precedes every command of `body` on the target.
    public func withConnection<T: Sendable>(slot: Int, _ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        var asking: ClusterNode?
        var lastError: (any Error)?
        var lastNode: ClusterNode?
        for attempt in 0..<maxAttempts {
            if attempt > 0, asking == nil {
                try await Task.sleep(for: Self.backoff(attempt))
            }
            do {
                let target = asking
                let node: ClusterNode
                if let target { node = target } else { node = try await primary(for: slot) }
                lastNode = node
                asking = nil
                return try await client(for: node, routed: true).withConnection { connection in
                    // Every command of the body is let in under ASK, not only its first.
                    connection.asking = target != nil
                    defer { connection.asking = false }
                    return try body(connection)
                }
            } catch let error as RedisError where error.code == .server {
                guard let redirect = ClusterRedirect(errorReply: error.message) else { throw error }
                lastError = error
                switch redirect {
                case .moved: try? await refreshMap()
                case .ask(_, var target):
                    // Redis leaves the host out when it is the one the client used.
                    if target.host.isEmpty { target.host = lastNode?.host ?? "" }
                    asking = target
                case .retryLater: break
                }
            } catch let error as RedisError where error.code == .shutdown && !state.withLock({ $0.isShutDown }) {
                // The node's client was closed by a map refresh (its node left the map) while this call waited for it:
                // the call never ran; route it again.
                lastError = error
            } catch let error as RedisError where error.isConnectionError && error.code != .shutdown {
                lastError = error
                // A primary that failed may have been replaced by its replica: ask the cluster again (the nodes of the
                // map in hand first, then the seeds).
                try? await refreshMap()
            }
        }
        throw lastError ?? RedisError(code: .connection, message: "Redis Cluster: no attempt made")
    }

    /// Runs one command on the primary that serves `key` (its slot), following redirects.
    @discardableResult
    public func send(key: some Collection<UInt8>, _ arguments: [RedisArgument]) async throws -> RESPValue {
        try await withConnection(slot: ClusterSlot.of(key)) { connection in try connection.send(arguments) }
    }

    /// The current slot map, loading it first if needed.
    public func slotMap() async throws -> ClusterSlotMap {
        if let map = state.withLock({ $0.map }) { return map }
        try await refreshMap()
        guard let map = state.withLock({ $0.map }) else {
            throw RedisError(code: .connection, message: "Redis Cluster: no slot map")
        }
        return map
    }

    /// Reloads the slot map from the first node that answers `CLUSTER SHARDS`: known primaries first, then the seeds.
    public func refreshMap() async throws {
        let (known, refresh) = state.withLock { state -> ([ClusterNode], Int) in
            state.refreshesStarted += 1
            return (state.map?.primaries ?? [], state.refreshesStarted)
        }
        var lastError: (any Error)?
        for node in known + seeds.filter({ !known.contains($0) }) {
            do {
                let reply = try await client(for: node).send("CLUSTER", "SHARDS")
                let map = try ClusterSlotMap(shardsReply: reply, fallbackHost: node.host)
                guard !map.ranges.isEmpty else { continue }
                let unused = state.withLock { state -> [RedisClient] in
                    guard refresh > state.installedRefresh else { return [] }
                    state.installedRefresh = refresh
                    state.map = map
                    // Close connections no command needs any more: nodes only asked for the map (but a client that
                    // only loads maps keeps the node that answered), primaries that lost their slots or died.
                    var keep = Set(map.primaries).intersection(state.commandNodes)
                    state.commandNodes = keep
                    if keep.isEmpty { keep.insert(node) }
                    let drop = state.clients.filter { !keep.contains($0.key) }
                    for node in drop.keys { state.clients[node] = nil }
                    return Array(drop.values)
                }
                if !unused.isEmpty {
                    // `shutdown` waits for the client's thread; not on this task's thread.
                    Thread.detachNewThread { for client in unused { client.shutdown() } }
                }
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? RedisError(code: .connection, message: "Redis Cluster: no seed answered CLUSTER SHARDS")
    }

    /// Closes every node's connection; later calls fail with `.shutdown`.
    public func shutdown() {
        let clients = state.withLock { state in
            state.isShutDown = true
            defer { state.clients.removeAll() }
            return Array(state.clients.values)
        }
        for client in clients { client.shutdown() }
    }

    private func primary(for slot: Int) async throws -> ClusterNode {
        let map = try await slotMap()
        guard let node = map.primary(for: slot) else {
            throw RedisError(code: .connection, message: "Redis Cluster: no primary serves slot \(slot) (CLUSTERDOWN?)")
        }
        return node
    }

    /// The node's client, made on first use; `routed`: a command goes there (its connection outlives map refreshes).
    private func client(for node: ClusterNode, routed: Bool = false) throws(RedisError) -> RedisClient {
        try state.withLock { state throws(RedisError) -> RedisClient in
            guard !state.isShutDown else { throw RedisError(code: .shutdown, message: "the cluster client was shut down") }
            if routed { state.commandNodes.insert(node) }
            if let existing = state.clients[node] { return existing }
            var configuration = template
            configuration.host = node.host
            configuration.port = node.port
            let client = RedisClient(configuration: configuration)
            state.clients[node] = client
            return client
        }
    }

    /// 50 ms, 100 ms, 200 ms … up to 1 s between attempts.
    static func backoff(_ attempt: Int) -> Duration {
        .milliseconds(min(1_000, 50 << min(attempt - 1, 5)))
    }
}
