import ArgumentParser
import NIOCore
import Queue
import Runtime
import StandardWebhooks

/// `docket-gateway`: verifies Standard Webhooks verdicts and enqueues them to the Redis stream (docs/reference.md §4).
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docket-gateway",
        abstract: "Receive signed review verdicts, validate them and enqueue them to Redis."
    )

    @OptionGroup var common: CommonOptions

    // No default shown in --help: the value is a secret.
    @Option(
        name: .customLong("webhook-secret"),
        help: ArgumentHelp(
            "Signing secrets, whsec_..., space-separated for rotation (env DOCKET_WEBHOOK_SECRET; required).",
            valueName: "secrets")
    )
    var webhookSecret: String?

    @Option(name: .customLong("host"), help: ArgumentHelp("Address to listen on (env DOCKET_GATEWAY_HOST).", valueName: "host"))
    var host: String = DocketEnvironment.string("DOCKET_GATEWAY_HOST", default: "127.0.0.1")

    @Option(name: .customLong("port"), help: ArgumentHelp("Port to listen on (env DOCKET_GATEWAY_PORT).", valueName: "port"))
    var port: Int = DocketEnvironment.int("DOCKET_GATEWAY_PORT", default: 8080)

    @Option(
        name: .customLong("trusted-proxies"),
        help: ArgumentHelp(
            "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For/Forwarded/X-Request-ID are believed (env DOCKET_TRUSTED_PROXIES).",
            valueName: "cidrs")
    )
    var trustedProxies: String = DocketEnvironment.string("DOCKET_TRUSTED_PROXIES", default: TrustedProxies.localDefault)

    @Option(
        name: .customLong("max-body-bytes"),
        help: ArgumentHelp("Largest accepted body; larger ones get 413 (env DOCKET_MAX_BODY_BYTES).", valueName: "bytes"))
    var maxBodyBytes: Int = DocketEnvironment.int("DOCKET_MAX_BODY_BYTES", default: 65536)

    @Option(
        name: .customLong("max-backlog"),
        help: ArgumentHelp("Events-stream length at which webhooks get 503 + Retry-After (env DOCKET_MAX_BACKLOG).", valueName: "entries"))
    var maxBacklog: Int = DocketEnvironment.int("DOCKET_MAX_BACKLOG", default: 1_000_000)

    @Option(
        name: .customLong("dedupe-ttl-s"),
        help: ArgumentHelp("Seconds a webhook id is remembered for dedupe (env DOCKET_DEDUPE_TTL_S).", valueName: "seconds"))
    var dedupeTTLSeconds: Int = DocketEnvironment.int("DOCKET_DEDUPE_TTL_S", default: 86400)

    @Option(
        name: .customLong("threads"),
        help: ArgumentHelp(
            "Event loops; each serves its share of connections and owns one Redis connection (env DOCKET_GATEWAY_THREADS; default: the number of cores).",
            valueName: "n"))
    var threads: Int = DocketEnvironment.int("DOCKET_GATEWAY_THREADS", default: System.coreCount)

    @Option(
        name: .customLong("max-pending"),
        help: ArgumentHelp(
            "Enqueues awaiting Redis's reply per event loop; beyond it webhooks get 503 + Retry-After (env DOCKET_GATEWAY_MAX_PENDING).",
            valueName: "n"))
    var maxPending: Int = DocketEnvironment.int("DOCKET_GATEWAY_MAX_PENDING", default: 4096)

    @Option(
        name: .customLong("shutdown-grace-ms"),
        help: ArgumentHelp(
            "On SIGTERM, how long connections may take to finish their request before they are closed (env DOCKET_GATEWAY_SHUTDOWN_GRACE_MS).",
            valueName: "ms"))
    var shutdownGraceMilliseconds: Int = DocketEnvironment.int("DOCKET_GATEWAY_SHUTDOWN_GRACE_MS", default: 10_000)

    @Option(
        name: .customLong("min-replicas"),
        help: ArgumentHelp(
            "Replicas that must hold a webhook before it is answered 202 (Redis WAIT); fewer within --replica-timeout-ms gets 503 + Retry-After (env DOCKET_REDIS_MIN_REPLICAS).",
            valueName: "n"))
    var minReplicas: Int = DocketEnvironment.int("DOCKET_REDIS_MIN_REPLICAS", default: 0)

    @Option(
        name: .customLong("replica-timeout-ms"),
        help: ArgumentHelp(
            "With --min-replicas, how long to wait for the replicas' acknowledgement (env DOCKET_REDIS_REPLICA_TIMEOUT_MS).",
            valueName: "ms"))
    var replicaTimeoutMilliseconds: Int = DocketEnvironment.int("DOCKET_REDIS_REPLICA_TIMEOUT_MS", default: 500)

    func validate() throws {
        try OptionCheck("--port", variable: "DOCKET_GATEWAY_PORT").port(port)
        try OptionCheck("--max-body-bytes", variable: "DOCKET_MAX_BODY_BYTES").atLeast(1, maxBodyBytes)
        try OptionCheck("--max-backlog", variable: "DOCKET_MAX_BACKLOG").atLeast(1, maxBacklog)
        try OptionCheck("--dedupe-ttl-s", variable: "DOCKET_DEDUPE_TTL_S").atLeast(1, dedupeTTLSeconds)
        try OptionCheck("--threads", variable: "DOCKET_GATEWAY_THREADS").within(1...256, threads)
        // Below the 30 s a supervisor waits after SIGTERM.
        try OptionCheck("--shutdown-grace-ms", variable: "DOCKET_GATEWAY_SHUTDOWN_GRACE_MS").within(0...25_000, shutdownGraceMilliseconds)
        try OptionCheck("--max-pending", variable: "DOCKET_GATEWAY_MAX_PENDING").atLeast(1, maxPending)
        try OptionCheck("--min-replicas", variable: "DOCKET_REDIS_MIN_REPLICAS").within(0...16, minReplicas)
        try OptionCheck("--replica-timeout-ms", variable: "DOCKET_REDIS_REPLICA_TIMEOUT_MS").within(1...10_000, replicaTimeoutMilliseconds)
    }

    /// The configuration these options describe; the error is one line naming the bad setting.
    func makeConfiguration() throws(ConfigurationError) -> GatewayConfiguration {
        let secrets: [WebhookSecret]
        do {
            secrets = try WebhookSecret.configured(
                webhookSecret ?? DocketEnvironment.optionalString("DOCKET_WEBHOOK_SECRET"), source: "DOCKET_WEBHOOK_SECRET")
        } catch {
            throw ConfigurationError(error.description)
        }
        let queue: QueueLink.Configuration
        do {
            queue = try GatewayConfiguration.queueConfiguration(url: common.redisURL, cluster: common.redisCluster)
        } catch {
            throw CommonOptions.invalidRedisURL(error.message)
        }
        return GatewayConfiguration(
            secrets: secrets,
            queue: queue,
            redisPrefix: common.redisPrefix,
            partitions: common.partitions,
            eventLoopThreads: threads,
            maxPendingPerLoop: maxPending,
            shutdownGracePeriod: .milliseconds(shutdownGraceMilliseconds),
            host: host,
            port: port,
            trustedProxies: try TrustedProxies(parsing: trustedProxies),
            maxBodyBytes: maxBodyBytes,
            maxBacklog: maxBacklog,
            dedupeTTLSeconds: dedupeTTLSeconds,
            replicaWait: minReplicas > 0 ? ReplicaWait(replicas: minReplicas, timeoutMilliseconds: replicaTimeoutMilliseconds) : nil
        )
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        // The gateway serves its own probes and /metrics on its event loops (GatewayServer).
        try await DocketProcess.main(
            label: "docket-gateway", common: common, gracefulShutdownTimeout: .seconds(30),
            startMetadata: [
                "address": "\(configuration.host):\(configuration.port)",
                "threads": "\(configuration.eventLoopThreads)",
                "redis": "\(configuration.queue.redactedURL)",
                "prefix": "\(configuration.redisPrefix)",
                "partitions": "\(configuration.partitions)",
                "cluster": "\(common.redisCluster)",
                "min_replicas": "\(minReplicas)",
                "secrets": "\(configuration.secrets.count)",
            ]
        ) { context, _ in
            [GatewayServer(configuration: configuration, context: context)]
        }
    }
}
