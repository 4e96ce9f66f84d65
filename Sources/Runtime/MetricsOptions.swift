public import ArgumentParser

/// Supplies an executable's default `--metrics-port` (worker 9101, scheduler 9102; docs/reference.md §2).
public protocol MetricsPortDefault {
    /// The port used when neither `--metrics-port` nor `DOCKET_METRICS_PORT` is given; 0 disables the endpoint.
    static var defaultMetricsPort: Int { get }
}

/// The port of the health and metrics endpoint; `Default` gives the executable's own default.
///
/// Use as `@OptionGroup var metrics: MetricsOptions<WorkerCommand>` where `WorkerCommand: MetricsPortDefault`.
public struct MetricsOptions<Default: MetricsPortDefault>: ParsableArguments, Sendable {
    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp(
            "Port for /metrics, /livez, /healthz and /readyz on 127.0.0.1; 0 disables (env DOCKET_METRICS_PORT).",
            valueName: "port"
        )
    )
    public var metricsPort: Int = DocketEnvironment.int("DOCKET_METRICS_PORT", default: Default.defaultMetricsPort)

    public init() {}

    public func validate() throws {
        try OptionCheck("--metrics-port", variable: "DOCKET_METRICS_PORT").port(metricsPort)
    }
}
