#if canImport(Glibc)
import ArgumentParser
import Durations
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HealthEndpoint
import Model
import Queue
import Runtime
import ServiceLifecycle
import Store

/// `docket-worker`: consumes the events stream and applies verdicts exactly once in effect (docs/reference.md §1;
/// docs/architecture.md, "The guarantees and where each is kept").
struct WorkerCommand: AsyncParsableCommand, MetricsPortDefault {
    static let configuration = CommandConfiguration(
        commandName: "docket-worker",
        abstract: "Consume accepted webhooks from Redis and apply the verdicts to Postgres, exactly once in effect."
    )

    static let defaultMetricsPort = 9101

    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var metrics: MetricsOptions<WorkerCommand>

    @Option(help: ArgumentHelp("This worker's consumer name in the group; keep it stable across restarts to resume its own pending entries (hostname-pid by default).", valueName: "name"))
    var consumer: String = WorkerCommand.defaultConsumerName()

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Most events read and applied in one transaction (env DOCKET_BATCH_SIZE).", valueName: "n"))
    var batchSize: Int = DocketEnvironment.int("DOCKET_BATCH_SIZE", default: 128)

    @Option(name: .customLong("max-attempts"), help: ArgumentHelp("Attempts for a retryable event before it is dead-lettered (env DOCKET_MAX_ATTEMPTS).", valueName: "n"))
    var maxAttempts: Int = DocketEnvironment.int("DOCKET_MAX_ATTEMPTS", default: 10)

    @Option(name: .customLong("retry-base-ms"), help: ArgumentHelp("Retry backoff base: wait min(cap, base·2^attempt)·random (env DOCKET_RETRY_BASE_MS).", valueName: "ms"))
    var retryBaseMilliseconds: Int = DocketEnvironment.int("DOCKET_RETRY_BASE_MS", default: 1_000)

    @Option(name: .customLong("retry-cap-ms"), help: ArgumentHelp("Longest retry wait (env DOCKET_RETRY_CAP_MS).", valueName: "ms"))
    var retryCapMilliseconds: Int = DocketEnvironment.int("DOCKET_RETRY_CAP_MS", default: 600_000)

    @Option(name: .customLong("visibility-timeout-ms"), help: ArgumentHelp("Entries pending longer than this are reclaimed from their consumer (env DOCKET_VISIBILITY_TIMEOUT_MS).", valueName: "ms"))
    var visibilityTimeoutMilliseconds: Int = DocketEnvironment.int("DOCKET_VISIBILITY_TIMEOUT_MS", default: 30_000)

    @Option(name: .customLong("max-deliveries"), help: ArgumentHelp("An entry delivered more often than this is dead-lettered as poison (env DOCKET_MAX_DELIVERIES).", valueName: "n"))
    var maxDeliveries: Int = DocketEnvironment.int("DOCKET_MAX_DELIVERIES", default: 5)

    @Option(name: .customLong("audit-retention"), help: ArgumentHelp("How long applied verdicts stay in the webhook_log audit trail, e.g. 30d, 12h; 0 turns the trail off (env DOCKET_AUDIT_RETENTION).", valueName: "duration"))
    var auditRetention: RetentionArgument = DocketEnvironment.value(
        "DOCKET_AUDIT_RETENTION", default: RetentionArgument(.seconds(30 * 86_400), text: "30d"))

    @Option(name: .customLong("dead-maxlen"), help: ArgumentHelp("The dead stream keeps its newest n entries; older ones are removed with a warning and docket_worker_dead_trimmed_total; 0 = no bound (env DOCKET_DEAD_MAXLEN).", valueName: "n"))
    var deadMaxLength: Int = DocketEnvironment.int("DOCKET_DEAD_MAXLEN", default: 100_000)

    func validate() throws {
        try OptionCheck("--dead-maxlen", variable: "DOCKET_DEAD_MAXLEN").atLeast(0, deadMaxLength)
        if let retention = auditRetention.duration, retention < .seconds(3_600) {
            throw ValidationError("--audit-retention (DOCKET_AUDIT_RETENTION) must be 0 (off) or at least 1h, got \(auditRetention)")
        }
        if consumer.isEmpty || consumer.contains(" ") {
            throw ValidationError("--consumer must be a non-empty name without spaces, got \"\(consumer)\"")
        }
        try OptionCheck("--batch-size", variable: "DOCKET_BATCH_SIZE").within(1...10_000, batchSize)
        try OptionCheck("--max-attempts", variable: "DOCKET_MAX_ATTEMPTS").atLeast(1, maxAttempts)
        try OptionCheck("--retry-base-ms", variable: "DOCKET_RETRY_BASE_MS").atLeast(1, retryBaseMilliseconds)
        if retryCapMilliseconds < retryBaseMilliseconds {
            throw ValidationError("--retry-cap-ms (DOCKET_RETRY_CAP_MS) must be at least the base \(retryBaseMilliseconds), got \(retryCapMilliseconds)")
        }
        try OptionCheck("--visibility-timeout-ms", variable: "DOCKET_VISIBILITY_TIMEOUT_MS").atLeast(100, visibilityTimeoutMilliseconds)
        try OptionCheck("--max-deliveries", variable: "DOCKET_MAX_DELIVERIES").atLeast(1, maxDeliveries)
    }

    func run() async throws {
        // One queue client per partition, each with its own connections (the blocking read among them).
        let partitioning = Partitioning(prefix: common.redisPrefix, count: common.partitions)
        let queueClients: [QueueClient]
        do {
            let endpoint = try QueueEndpoint(url: common.redisURL, cluster: common.redisCluster)
            queueClients = partitioning.allKeys.map { QueueClient(endpoint: endpoint, keys: $0, blockingReads: true) }
        } catch {
            throw CommonOptions.invalidRedisURL(error.message)
        }
        // Lowering the partition count must not strand what the dropped partitions hold: no worker would read it.
        if let first = queueClients.first, let stranded = try? await first.strandedPartitions(partitioning), !stranded.isEmpty {
            let listed = stranded.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) entries)" }.joined(separator: ", ")
            throw ConfigurationError(
                "--partitions (DOCKET_PARTITIONS) is \(partitioning.count), but partitions \(listed) still hold entries: run the "
                    + "workers with DOCKET_PARTITIONS=\((stranded.keys.max() ?? 0) + 1) until `docketctl stats --partitions "
                    + "\((stranded.keys.max() ?? 0) + 1)` shows them empty (replay or purge their dead letters), then lower it")
        }
        var configuration = WorkerConfiguration(consumer: consumer)
        configuration.batchSize = batchSize
        configuration.retryPolicy = RetryPolicy(
            base: .milliseconds(retryBaseMilliseconds), cap: .milliseconds(retryCapMilliseconds), maxAttempts: maxAttempts)
        configuration.visibilityTimeoutMilliseconds = visibilityTimeoutMilliseconds
        configuration.maxDeliveries = maxDeliveries
        configuration.auditRetention = auditRetention.duration
        configuration.deadMaxLength = deadMaxLength
        // BLOCK stays well below the socket timeout: hiredis drops the connection when that fires.
        configuration.blockMilliseconds = max(100, min(1_000, (queueClients.first?.commandTimeout ?? .seconds(10)).milliseconds() / 4))
        let databaseURL = database.databaseURL
        let metricsPort = metrics.metricsPort

        // Shut down in reverse order: the consumer finishes its batch first, the health endpoint goes last.
        try await DocketProcess.main(
            label: "docket-worker", common: common, gracefulShutdownTimeout: .seconds(9),
            startMetadata: [
                "consumer": "\(configuration.consumer)", "batch_size": "\(configuration.batchSize)",
                "partitions": "\(partitioning.count)",
            ]
        ) { context, resources in
            let workerMetrics = WorkerMetrics()
            let store = resources.opened(StoreClient(verdictsAt: databaseURL)) { $0.shutdown() }
            let verdicts = StoreVerdictSink(store: VerdictStore(recordsAudit: configuration.auditRetention != nil), client: store)
            // A consumer per partition: each drains its own stream at its own pace, so a busy partition never hides a
            // quiet one's events; they share the Postgres connection.
            var consumers: [EventConsumer] = []
            for (index, client) in queueClients.enumerated() {
                let queue = resources.opened(client) { $0.shutdown() }
                var logger = context.logger
                if partitioning.count > 1 { logger[metadataKey: "partition"] = "\(index)" }
                let processor = BatchProcessor(
                    verdicts: verdicts,
                    settler: QueueEntrySettler(client: queue, deadMaxLength: configuration.deadMaxLength),
                    disposition: EventDisposition(policy: configuration.retryPolicy), consumer: configuration.consumer,
                    metrics: workerMetrics, logger: logger, random: { Double.random(in: Double.ulpOfOne...1) },
                    wallClock: WorkerCommand.wallClockMilliseconds)
                consumers.append(EventConsumer(
                    configuration: configuration,
                    queue: QueueConsumer(client: queue, deadMaxLength: configuration.deadMaxLength),
                    processor: processor, metrics: workerMetrics, logger: logger))
            }
            let allConsumers = consumers
            var services: [any Service] = [
                HealthServer(port: metricsPort, context: context, readiness: { allConsumers.allSatisfy(\.isHealthy) }),
                RetryPromoter(
                    clients: queueClients, interval: configuration.promotionInterval, limit: configuration.promotionLimit,
                    metrics: workerMetrics, logger: context.logger, nowMilliseconds: WorkerCommand.wallClockMilliseconds),
            ]
            if let retention = configuration.auditRetention {
                // Its own connection: a detach waiting for old transactions never holds up a batch.
                let upkeepStore = resources.opened(StoreClient(url: databaseURL)) { $0.shutdown() }
                services.append(AuditUpkeep(
                    store: upkeepStore, audit: AuditLog(), retention: retention, interval: .seconds(3_600),
                    retryInterval: .seconds(60), metrics: workerMetrics, logger: context.logger))
            }
            services.append(contentsOf: consumers as [any Service])
            return services
        }
    }

    /// `hostname-pid`: unique per process, readable in XINFO CONSUMERS.
    static func defaultConsumerName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host: String
        if gethostname(&buffer, buffer.count - 1) == 0 {
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            host = String(decoding: bytes, as: UTF8.self)
        } else {
            host = "worker"
        }
        return "\(host.isEmpty ? "worker" : host)-\(getpid())"
    }

    /// Unix time in milliseconds (retry due times and `failed_at` are wall-clock, shared by every worker).
    @Sendable static func wallClockMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
    }
}
