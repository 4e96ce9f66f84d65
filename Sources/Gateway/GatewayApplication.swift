import Hummingbird
import Logging
import Queue
import Runtime
import StandardWebhooks

/// Builds the gateway's Hummingbird application: webhook intake, probes and metrics on one port, the Redis pool and its
/// readiness probe as services (the pool is shut down after the server has drained).
func buildApplication(
    configuration: GatewayConfiguration,
    logger: Logger = Logger(label: "docket-gateway"),
    shutdown: ShutdownFlag = ShutdownFlag()
) -> some ApplicationProtocol {
    // Installs the Prometheus backend before any metric is created, so none binds to the no-op default.
    let registry = MetricsBootstrap.bootstrap()
    let metrics = GatewayMetrics()
    let pool = RedisPool(configuration: configuration.redis, size: configuration.redisPoolSize)
    let queue = EventQueue(prefix: configuration.redisPrefix)
    let probe = RedisReadinessProbe(
        pool: pool, queue: queue, metrics: metrics, interval: configuration.readinessInterval, shutdown: shutdown, logger: logger)

    let healthRouter = Router(context: GatewayRequestContext.self)
    HealthRoutes.add(to: healthRouter, registry: registry, readiness: { probe.isReady }, shutdown: shutdown)

    let intake = WebhookIntake(
        verifier: WebhookVerifier(secrets: configuration.secrets, tolerance: configuration.signatureToleranceSeconds),
        queue: queue,
        pool: pool,
        maxBodyBytes: configuration.maxBodyBytes,
        maxBacklog: configuration.maxBacklog,
        dedupeTTLSeconds: configuration.dedupeTTLSeconds,
        metrics: metrics,
        logger: logger
    )
    let responder = GatewayResponder(
        intake: intake,
        health: healthRouter.buildResponder(),
        proxies: configuration.trustedProxies,
        requestIDs: RequestIDGenerator(),
        metrics: metrics,
        logger: logger
    )
    return Application(
        responder: responder,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: nil
        ),
        services: [probe],
        logger: logger
    )
}
