import Metrics

/// The scheduler's metrics (swift-metrics, exported by the Prometheus registry on the health server).
struct SchedulerMetrics: Sendable {
    /// Requests sent to the Help Desk, by what came of them (`accepted`, `retry`, `failed`).
    private let accepted = Counter(label: "docket_scheduler_requests_total", dimensions: [("outcome", "accepted")])
    private let retried = Counter(label: "docket_scheduler_requests_total", dimensions: [("outcome", "retry")])
    private let failed = Counter(label: "docket_scheduler_requests_total", dimensions: [("outcome", "failed")])
    /// Time from sending a request to its answer (or transport failure).
    let requestDuration = Timer(label: "docket_scheduler_request_duration_seconds")
    /// Requests currently in flight.
    let inFlight = Gauge(label: "docket_scheduler_requests_in_flight")
    /// PENDING_REVIEW reviews older than `--review-timeout`.
    let staleReviews = Gauge(label: "docket_scheduler_stale_reviews")

    /// Counts one request under its decision's outcome.
    func count(_ decision: RequestDecision) {
        switch decision {
        case .accepted: accepted.increment()
        case .retry: retried.increment()
        case .failed: failed.increment()
        }
    }
}
