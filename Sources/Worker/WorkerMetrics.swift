import Metrics
import Runtime

/// The worker's Prometheus metrics; labels are low-cardinality (the outcome only).
struct WorkerMetrics: Sendable {
    /// `docket_worker_events_total{outcome}`: applied, duplicate, stale, retried, dead.
    private let events: [EventOutcomeLabel: Counter]
    /// Dead letters removed from the dead stream to keep it within `DOCKET_DEAD_MAXLEN`.
    let deadTrimmed = Counter(label: "docket_worker_dead_trimmed_total")
    /// Audit-trail upkeep runs that failed (partitions not made or not dropped; retried a minute later).
    let auditUpkeepFailures = Counter(label: "docket_worker_audit_upkeep_failures_total")
    /// Entries claimed from consumers idle past the visibility timeout.
    let reclaimed = Counter(label: "docket_worker_reclaimed_total")
    /// Entries per applied batch.
    let batchSize = Recorder(label: "docket_worker_batch_size", aggregate: true)
    /// Time to apply one batch in Postgres (one transaction).
    let applyLatency = Timer(label: "docket_worker_apply_duration_seconds")
    /// Entries of the events stream not yet delivered to the group (XINFO GROUPS lag).
    let streamLag = Gauge(label: "docket_worker_stream_lag")

    init() {
        var events: [EventOutcomeLabel: Counter] = [:]
        for outcome in EventOutcomeLabel.allCases {
            events[outcome] = Counter(label: "docket_worker_events_total", dimensions: [("outcome", outcome.rawValue)])
        }
        self.events = events
    }

    /// Counts `count` events that ended with `outcome`.
    func count(_ outcome: EventOutcomeLabel, _ count: Int = 1) {
        guard count > 0 else { return }
        events[outcome]?.increment(by: count)
    }
}
