import Metrics
public import Prometheus
import Synchronization

/// Installs swift-prometheus as the process-wide swift-metrics backend, once per process.
public enum MetricsBootstrap {
    /// swift-metrics traps on a second `MetricsSystem.bootstrap`, so the registry is created and installed once.
    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The `Content-Type` of the Prometheus text exposition format.
    public static let contentType = "text/plain; version=0.0.4"

    /// Bootstraps swift-metrics on first call; every call returns the same registry.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        installed.withLock { installed in
            if let registry = installed {
                return registry
            }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            installed = registry
            return registry
        }
    }

    /// The registry's metrics in the Prometheus text format, as served on `/metrics`.
    public static func exposition(of registry: PrometheusCollectorRegistry) -> [UInt8] {
        registry.emitToBuffer()
    }
}
