import Metrics
import Runtime

/// The gateway's metrics (swift-metrics, exported by swift-prometheus on `/metrics`), created once so the hot path
/// only touches atomics.
struct GatewayMetrics: Sendable {
    private let requests: [Counter]
    /// Time from sending the enqueue script to Redis's answer (`docket_gateway_enqueue_seconds`).
    let enqueueDuration: Timer
    /// Entries in the events stream, refreshed by the readiness probe (`docket_gateway_backlog`).
    let backlog: Gauge

    init() {
        requests = GatewayOutcome.allCases.map { outcome in
            Counter(label: "docket_gateway_requests_total", dimensions: [("outcome", outcome.label)])
        }
        enqueueDuration = Timer(label: "docket_gateway_enqueue_seconds")
        backlog = Gauge(label: "docket_gateway_backlog")
    }

    /// Counts one answered request.
    func count(_ outcome: GatewayOutcome) {
        // Raw values run 0..<allCases.count in declaration order, matching `requests`.
        requests[outcome.rawValue].increment()
    }
}
