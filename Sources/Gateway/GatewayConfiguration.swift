import Queue
import StandardWebhooks

/// Everything the gateway needs to run, filled from flags and `DOCKET_*` variables by `GatewayCommand` (or by tests).
struct GatewayConfiguration: Sendable {
    /// Secrets any one of which may sign a webhook (several during rotation).
    var secrets: [WebhookSecret]
    /// The queue's Redis, with timeouts short enough that an unreachable server becomes a 503 within about a second.
    var queue: QueueLink.Configuration
    /// `{PREFIX}:events` etc.
    var redisPrefix: String = "docket"
    /// Partitions of the queue; a webhook goes to `Partitioning.partition(forWebhookId:)`.
    var partitions: Int = 1
    /// Event loops (threads); each owns its connections and one Redis connection.
    var eventLoopThreads: Int = 1
    /// Enqueues awaiting Redis's reply per event loop; past it webhooks get 503 + `Retry-After` at once.
    var maxPendingPerLoop: Int = 4096
    /// How long graceful shutdown waits for connections to finish their request before closing them anyway (less than
    /// `DocketProcess`'s 30 s, so the Redis connections still close in order).
    var shutdownGracePeriod: Duration = .seconds(10)
    var host: String = "127.0.0.1"
    /// 0 picks a free port (tests).
    var port: Int = 8080
    var trustedProxies: TrustedProxies = TrustedProxies(blocks: [])
    var maxBodyBytes: Int = 65536
    var maxBacklog: Int = 1_000_000
    var dedupeTTLSeconds: Int = 86400
    /// How far `webhook-timestamp` may be from now, either way (docs/reference.md §7).
    var signatureToleranceSeconds: Int = 300
    /// How often an idle Redis connection is PINGed and the backlog gauge refreshed.
    var readinessInterval: Duration = .milliseconds(500)
    /// `DOCKET_REDIS_MIN_REPLICAS` > 0: the WAIT each accepted webhook needs before its 202 (docs/reference.md §4).
    var replicaWait: ReplicaWait?

    /// Connect within 500 ms and expect each reply within 1 s: beyond that Redis counts as unreachable (a 503).
    /// `maxPending` and the ping interval are set per loop from `maxPendingPerLoop` and `readinessInterval`, and the
    /// reply timeout grows by `replicaWait`'s timeout there (a `WAIT` holds the connection while it lasts).
    static func queueConfiguration(url: String, cluster: Bool = false) throws(InvalidQueueURL) -> QueueLink.Configuration {
        QueueLink.Configuration(
            endpoint: try QueueEndpoint(url: url, cluster: cluster), connectTimeout: .milliseconds(500),
            commandTimeout: .seconds(1), maxPending: 4096, pingInterval: .milliseconds(500))
    }
}
