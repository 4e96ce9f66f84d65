import Model

/// The simulated Help Desk's behaviour, resolved from flags in `HelpDeskSimCommand`.
struct SimulatorConfiguration: Sendable {
    /// How long the agent takes before the verdict is sent.
    var delay = DelayRange(low: 2000, high: 5000)
    /// Share of verdicts that are ACCEPTED (the rest DECLINED).
    var acceptRate = 0.8
    /// Share of `POST /document` requests answered 500 before anything is recorded.
    var failRate = 0.0
    /// Share of delivered verdicts sent a second time.
    var duplicateRate = 0.0
    /// Delivery backoff (the attempt budget is `maxDeliveryAttempts`).
    var retryPolicy = RetryPolicy(base: .milliseconds(500), cap: .seconds(30), maxAttempts: 200)
    /// Webhook POSTs per verdict before giving up (about 1.5 h at the default 30 s cap).
    var maxDeliveryAttempts = 200
    /// Time allowed for one webhook POST.
    var deliveryTimeout: Duration = .seconds(10)
}
