import Redis

/// Where the queue's Redis is (docs/reference.md §1, docs/scaling.md): one server, or a Redis Cluster reached through
/// one or more seed nodes (`DOCKET_REDIS_CLUSTER=1`, `redis://h1:7000,h2:7001,h3:7002`). Every process that talks to
/// the queue is built from one.
public struct QueueEndpoint: Sendable {
    enum Kind: Sendable {
        case single(RedisConfiguration)
        case cluster(ClusterConfiguration)
    }

    var kind: Kind

    /// Throws `InvalidQueueURL` for a URL that is not `redis://host:port/db` (one server) or
    /// `redis://host:port[,host:port…]` (a cluster, database 0).
    public init(url: String, cluster: Bool) throws(InvalidQueueURL) {
        do {
            kind = cluster ? .cluster(try ClusterConfiguration(url: url)) : .single(try RedisConfiguration(url: url))
        } catch {
            throw InvalidQueueURL(message: error.message)
        }
    }

    public var isCluster: Bool {
        if case .cluster = kind { return true }
        return false
    }

    /// The URL with any password replaced by `***`, for messages.
    public var redactedURL: String {
        switch kind {
        case .single(let configuration): configuration.redactedURL
        case .cluster(let cluster): cluster.redactedURL
        }
    }

    /// The settings every connection shares (for a cluster, each node's connection takes its host and port from the map).
    var connectionTemplate: RedisConfiguration {
        get {
            switch kind {
            case .single(let configuration): configuration
            case .cluster(let cluster): cluster.template
            }
        }
        set {
            switch kind {
            case .single: kind = .single(newValue)
            case .cluster(var cluster):
                cluster.template = newValue
                kind = .cluster(cluster)
            }
        }
    }

    /// A connection (set) for the keys of slot `slot`: the server itself, or the cluster routed by that slot.
    func makeRoute(slot: Int) -> QueueRoute {
        switch kind {
        case .single(let configuration): .single(RedisClient(configuration: configuration))
        case .cluster(let cluster): .cluster(RedisClusterClient(seeds: cluster.seeds, template: cluster.template), slot: slot)
        }
    }
}

/// Where one `QueueClient`'s calls go: its own connection to the one server, or a cluster client pinned to the slot of
/// its partition's hash tag (every key of a partition shares it).
enum QueueRoute: Sendable {
    case single(RedisClient)
    case cluster(RedisClusterClient, slot: Int)

    func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        switch self {
        case .single(let client): try await client.withConnection(body)
        case .cluster(let client, let slot): try await client.withConnection(slot: slot, body)
        }
    }

    func shutdown() {
        switch self {
        case .single(let client): client.shutdown()
        case .cluster(let client, _): client.shutdown()
        }
    }
}
