import Foundation

/// A private Redis Cluster for tests that kill or reshard it: six `RedisServerProcess` nodes on free loopback ports
/// joined by `redis-cli --cluster create --cluster-replicas 1` (three primaries with a replica each, 1 s node timeout).
public final class RedisClusterProcess: Sendable {
    public let nodes: [RedisServerProcess]

    /// Starts the nodes and creates the cluster; returns once every node reports `cluster_state:ok`.
    public static func start() throws -> RedisClusterProcess {
        var nodes: [RedisServerProcess] = []
        do {
            for _ in 0..<6 { nodes.append(try RedisServerProcess.start(clusterNode: true)) }
            let cluster = RedisClusterProcess(nodes: nodes)
            try Command.check("redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "1", "--cluster-yes"])
            try cluster.waitUntilHealthy(timeout: .seconds(30))
            return cluster
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    private init(nodes: [RedisServerProcess]) {
        self.nodes = nodes
    }

    /// `redis://127.0.0.1:p1,…,127.0.0.1:p6` (every node a seed).
    public var url: String {
        "redis://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
    }

    /// The node on `port`.
    public func node(port: Int) -> RedisServerProcess? {
        nodes.first { $0.port == port }
    }

    /// `CLUSTER NODES` from the first live node, as (id, port, is primary, is failed, slot ranges).
    public func topology() throws -> [(id: String, port: Int, primary: Bool, failed: Bool, slots: [String])] {
        var lastError: (any Error)?
        for node in nodes where node.isRunning {
            do {
                let text = try Command.check("redis-cli", ["-p", "\(node.port)", "cluster", "nodes"]).stdout
                return text.split(separator: "\n").compactMap { line in
                    let fields = line.split(separator: " ").map(String.init)
                    guard fields.count >= 8, let colon = fields[1].firstIndex(of: ":") else { return nil }
                    let portText = fields[1][fields[1].index(after: colon)...].prefix { $0.isNumber }
                    guard let port = Int(portText) else { return nil }
                    return (fields[0], port, fields[2].contains("master"), fields[2].contains("fail"), Array(fields.dropFirst(8)))
                }
            } catch {
                lastError = error
            }
        }
        throw lastError ?? TestSupportError(.commandFailed, "no cluster node is running")
    }

    /// The primary serving `slot`, by port.
    public func primaryPort(forSlot slot: Int) throws -> Int? {
        for node in try topology() where node.primary && !node.failed {
            for range in node.slots where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, (low...(bounds.last ?? low)).contains(slot) { return node.port }
            }
        }
        return nil
    }

    /// Waits until every running node says `cluster_state:ok` and every replica is in sync with its primary.
    public func waitUntilHealthy(timeout: Duration) throws {
        try waitUntil(timeout: timeout, poll: .milliseconds(100), what: "the Redis Cluster to report cluster_state:ok on every node") {
            for node in self.nodes where node.isRunning {
                let info = try Command.run("redis-cli", ["-p", "\(node.port)", "cluster", "info"]).stdout
                guard info.contains("cluster_state:ok") else { return false }
                // A replica that never finished its first sync cannot take over: wait for every link to be up.
                let replication = try Command.run("redis-cli", ["-p", "\(node.port)", "info", "replication"]).stdout
                if replication.contains("role:slave") && !replication.contains("master_link_status:up") { return false }
            }
            return true
        }
    }

    /// Moves `count` slots from the primary on `from` to the primary on `to` with `redis-cli --cluster reshard`
    /// (keys and all, pipelined 100 at a time); returns what redis-cli printed.
    @discardableResult
    public func reshard(from: Int, to: Int, count: Int) throws -> String {
        let all = try topology()
        guard let source = all.first(where: { $0.port == from }), let target = all.first(where: { $0.port == to }) else {
            throw TestSupportError(.commandFailed, "no node on port \(from) or \(to)")
        }
        return try Command.check("redis-cli", [
            "--cluster", "reshard", "127.0.0.1:\(from)", "--cluster-from", source.id, "--cluster-to", target.id,
            "--cluster-slots", "\(count)", "--cluster-yes", "--cluster-pipeline", "100",
        ]).stdout
    }

    /// `CLUSTER NODES` and the end of every node's log, for a failure message.
    public func diagnostics() -> String {
        var text = (try? Command.run("redis-cli", ["-p", "\(nodes.first { $0.isRunning }?.port ?? 0)", "cluster", "nodes"]).stdout) ?? ""
        for node in nodes {
            let log = (try? String(contentsOfFile: "\(node.directory)/redis.log", encoding: .utf8)) ?? ""
            text += "\n--- node \(node.port) (running: \(node.isRunning))\n" + log.split(separator: "\n").suffix(12).joined(separator: "\n")
        }
        return text
    }

    public func stop() {
        for node in nodes { node.stop() }
    }
}
