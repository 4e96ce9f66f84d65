import Hummingbird
public import Logging
public import Prometheus
public import Runtime
public import ServiceLifecycle

/// A small HTTP server for `/livez`, `/healthz`, `/readyz` and `/metrics` (worker, scheduler); port 0 disables it.
public struct HealthServer: Service {
    /// Address to bind; 127.0.0.1 unless an operator exposes it deliberately.
    public var host: String
    /// Port to bind; 0 means no server, the service just waits for shutdown.
    public var port: Int

    private let registry: PrometheusCollectorRegistry
    private let readiness: @Sendable () async -> Bool
    private let shutdown: ShutdownFlag
    private let logger: Logger

    /// Creates the server; `readiness` answers `/readyz` until `shutdown` is set (by `DocketProcess` or our own graceful shutdown).
    public init(
        host: String = "127.0.0.1",
        port: Int,
        registry: PrometheusCollectorRegistry,
        shutdown: ShutdownFlag,
        logger: Logger,
        readiness: @escaping @Sendable () async -> Bool = { true }
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.readiness = readiness
        self.shutdown = shutdown
        self.logger = logger
    }

    /// The process's own health server (`DocketProcess.main`): its registry and shutdown flag.
    public init(port: Int, context: ProcessContext, readiness: @escaping @Sendable () async -> Bool = { true }) {
        self.init(port: port, registry: context.registry, shutdown: context.shutdown, logger: context.logger, readiness: readiness)
    }

    public func run() async throws {
        let shutdown = self.shutdown
        guard port != 0 else {
            logger.debug("Health and metrics endpoint disabled (port 0)")
            try await withGracefulShutdownHandler {
                try await gracefulShutdown()
            } onGracefulShutdown: {
                shutdown.begin()
            }
            return
        }
        let application = makeApplication()
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            shutdown.begin()
        }
    }

    /// The Hummingbird application serving the health routes on `host:port`.
    func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        HealthRoutes.add(to: router, registry: registry, readiness: readiness, shutdown: shutdown)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            logger: logger
        )
    }
}
