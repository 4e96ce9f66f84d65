public import Logging
public import Prometheus
public import ServiceLifecycle

/// What every Docket process starts with (docs/architecture.md, "Each process's job"): its logger, the metrics
/// registry, and the flag that turns `/readyz` to 503 once shutdown begins.
public struct ProcessContext: Sendable {
    public let logger: Logger
    public let registry: PrometheusCollectorRegistry
    public let shutdown: ShutdownFlag
}

/// Things a process opened (clients over C libraries) and must close however it ends, in reverse order of opening.
public struct ProcessResources {
    private var closers: [() -> Void] = []

    init() {}

    /// Registers `resource`'s close, to run when the process's services have stopped; returns `resource`.
    public mutating func opened<Resource>(_ resource: Resource, close: @escaping (Resource) -> Void) -> Resource {
        closers.append { close(resource) }
        return resource
    }

    func closeAll() {
        for close in closers.reversed() { close() }
    }
}

extension DocketProcess {
    /// The one process skeleton: logging from `common`, metrics bootstrapped, the services built by `build` and run
    /// until SIGTERM/SIGINT (`run(services:logger:shutdown:gracefulShutdownTimeout:)`), then every resource `build`
    /// opened closed. A process is its options plus what `build` returns. Services shut down in reverse order: list the
    /// health server first so it answers until the others have drained.
    public static func main(
        label: String,
        common: CommonOptions,
        gracefulShutdownTimeout: Duration,
        startMetadata: Logger.Metadata = [:],
        _ build: (ProcessContext, inout ProcessResources) throws -> [any Service]
    ) async throws {
        let context = ProcessContext(
            logger: common.makeLogger(label: label), registry: MetricsBootstrap.bootstrap(), shutdown: ShutdownFlag())
        var resources = ProcessResources()
        defer { resources.closeAll() }
        let services = try build(context, &resources)
        context.logger.info("\(label) starting", metadata: startMetadata)
        try await run(
            services: services, logger: context.logger, shutdown: context.shutdown,
            gracefulShutdownTimeout: gracefulShutdownTimeout)
        context.logger.info("\(label) stopped")
    }
}
