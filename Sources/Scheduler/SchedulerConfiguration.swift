import Model

/// Everything `ReviewScheduler` needs, resolved from flags and `DOCKET_*` variables in `SchedulerCommand`.
struct SchedulerConfiguration: Sendable {
    /// Base URL of the Help Desk; requests go to `{helpDeskURL}/document`.
    var helpDeskURL: String
    /// Sent as `X-Callback-Url`: where the Help Desk delivers the verdict (the gateway).
    var callbackURL: String
    /// Most requests in flight at once; also the claim batch ceiling.
    var maxInFlight: Int = 64
    /// How often to look for due reviews when no NOTIFY arrives (retries become due silently).
    var pollInterval: Duration = .seconds(1)
    /// Request backoff and attempt budget.
    var retryPolicy = RetryPolicy(base: .seconds(1), cap: .seconds(300), maxAttempts: 8)
    var connectTimeout: Duration = .seconds(5)
    /// Total time one request may take; the claim lease must outlast it.
    var requestTimeout: Duration = .seconds(30)
    /// How long a claim stays ours; a crashed scheduler's claims are taken up again after it.
    var claimLease: Duration = .seconds(60)
    /// PENDING_REVIEW rows older than this count as stale in the metrics.
    var reviewTimeout: Duration = .seconds(86_400)

    /// `{helpDeskURL}/document`, whether or not the base ends with a slash.
    var documentEndpoint: String {
        var base = Substring(helpDeskURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/document"
    }
}
