import ArgumentParser
import Curl
import HealthEndpoint
import Model
import Runtime
import Store

/// `docket-scheduler`: claims QUEUED reviews, asks the Help Desk to review them, records the answers
/// (docs/architecture.md, "Each process's job" and "The guarantees and where each is kept").
struct SchedulerCommand: AsyncParsableCommand, MetricsPortDefault {
    static let configuration = CommandConfiguration(
        commandName: "docket-scheduler",
        abstract: "Send queued document reviews to the Help Desk and record its answers; several may run at once."
    )

    static var defaultMetricsPort: Int { 9102 }

    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var metrics: MetricsOptions<SchedulerCommand>

    @Option(
        name: .customLong("helpdesk-url"),
        help: ArgumentHelp("Base URL of the Help Desk; reviews are POSTed to {url}/document (env DOCKET_HELPDESK_URL).", valueName: "url")
    )
    var helpDeskURL: String = DocketEnvironment.string("DOCKET_HELPDESK_URL", default: "http://127.0.0.1:8090")

    @Option(
        name: .customLong("callback-url"),
        help: ArgumentHelp("Sent as X-Callback-Url: where the Help Desk delivers verdicts (env DOCKET_CALLBACK_URL).", valueName: "url")
    )
    var callbackURL: String = DocketEnvironment.string("DOCKET_CALLBACK_URL", default: "http://127.0.0.1:8080/document/update")

    @Option(
        name: .customLong("max-in-flight"),
        help: ArgumentHelp("Most Help Desk requests in flight at once (env DOCKET_MAX_IN_FLIGHT).", valueName: "n")
    )
    var maxInFlight: Int = DocketEnvironment.int("DOCKET_MAX_IN_FLIGHT", default: 64)

    @Option(
        name: .customLong("poll-interval-ms"),
        help: ArgumentHelp("Look for due reviews this often besides NOTIFY (env DOCKET_POLL_INTERVAL_MS).", valueName: "ms")
    )
    var pollIntervalMilliseconds: Int = DocketEnvironment.int("DOCKET_POLL_INTERVAL_MS", default: 1000)

    @Option(
        name: .customLong("request-max-attempts"),
        help: ArgumentHelp("Requests per review before it is marked REQUEST_FAILED (env DOCKET_REQUEST_MAX_ATTEMPTS).", valueName: "n")
    )
    var requestMaxAttempts: Int = DocketEnvironment.int("DOCKET_REQUEST_MAX_ATTEMPTS", default: 8)

    @Option(
        name: .customLong("request-retry-base-ms"),
        help: ArgumentHelp("Backoff ceiling after the first failed request (env DOCKET_REQUEST_RETRY_BASE_MS).", valueName: "ms")
    )
    var requestRetryBaseMilliseconds: Int = DocketEnvironment.int("DOCKET_REQUEST_RETRY_BASE_MS", default: 1000)

    @Option(
        name: .customLong("request-retry-cap-ms"),
        help: ArgumentHelp("Largest backoff between requests (env DOCKET_REQUEST_RETRY_CAP_MS).", valueName: "ms")
    )
    var requestRetryCapMilliseconds: Int = DocketEnvironment.int("DOCKET_REQUEST_RETRY_CAP_MS", default: 300_000)

    @Option(
        name: .customLong("connect-timeout-ms"),
        help: ArgumentHelp("Time allowed to connect to the Help Desk (env DOCKET_CONNECT_TIMEOUT_MS).", valueName: "ms")
    )
    var connectTimeoutMilliseconds: Int = DocketEnvironment.int("DOCKET_CONNECT_TIMEOUT_MS", default: 5000)

    @Option(
        name: .customLong("request-timeout-ms"),
        help: ArgumentHelp("Time allowed for a whole request, connection included (env DOCKET_REQUEST_TIMEOUT_MS).", valueName: "ms")
    )
    var requestTimeoutMilliseconds: Int = DocketEnvironment.int("DOCKET_REQUEST_TIMEOUT_MS", default: 30_000)

    @Option(
        name: .customLong("claim-lease-ms"),
        help: ArgumentHelp(
            "How long a claim lasts; a crashed scheduler's reviews are requested again after it. Must exceed the request timeout (env DOCKET_CLAIM_LEASE_MS).",
            valueName: "ms"
        )
    )
    var claimLeaseMilliseconds: Int = DocketEnvironment.int("DOCKET_CLAIM_LEASE_MS", default: 60_000)

    @Option(
        name: .customLong("review-timeout"),
        help: ArgumentHelp("PENDING_REVIEW older than this counts as stale, e.g. 24h, 90m, 30s (env DOCKET_REVIEW_TIMEOUT).", valueName: "duration")
    )
    var reviewTimeout: DurationArgument = DocketEnvironment.value(
        "DOCKET_REVIEW_TIMEOUT",
        default: DurationArgument(.seconds(86_400), text: "24h")
    )

    init() {}

    func validate() throws {
        for (name, url) in [("--helpdesk-url", helpDeskURL), ("--callback-url", callbackURL)] {
            if let problem = DocumentURL.validate(url) {
                throw ValidationError("\(name) \(problem), got \"\(url)\"")
            }
        }
        let positive: [(String, String, Int)] = [
            ("--max-in-flight", "DOCKET_MAX_IN_FLIGHT", maxInFlight),
            ("--poll-interval-ms", "DOCKET_POLL_INTERVAL_MS", pollIntervalMilliseconds),
            ("--request-max-attempts", "DOCKET_REQUEST_MAX_ATTEMPTS", requestMaxAttempts),
            ("--request-retry-base-ms", "DOCKET_REQUEST_RETRY_BASE_MS", requestRetryBaseMilliseconds),
            ("--request-retry-cap-ms", "DOCKET_REQUEST_RETRY_CAP_MS", requestRetryCapMilliseconds),
            ("--connect-timeout-ms", "DOCKET_CONNECT_TIMEOUT_MS", connectTimeoutMilliseconds),
            ("--request-timeout-ms", "DOCKET_REQUEST_TIMEOUT_MS", requestTimeoutMilliseconds),
            ("--claim-lease-ms", "DOCKET_CLAIM_LEASE_MS", claimLeaseMilliseconds),
        ]
        for (flag, variable, value) in positive {
            try OptionCheck(flag, variable: variable).atLeast(1, value)
        }
        if requestRetryCapMilliseconds < requestRetryBaseMilliseconds {
            throw ValidationError("--request-retry-cap-ms (\(requestRetryCapMilliseconds)) must not be below --request-retry-base-ms (\(requestRetryBaseMilliseconds))")
        }
        // A lease shorter than a request would let a second scheduler send the same review while the first still waits.
        if claimLeaseMilliseconds <= requestTimeoutMilliseconds {
            throw ValidationError("--claim-lease-ms (\(claimLeaseMilliseconds)) must exceed --request-timeout-ms (\(requestTimeoutMilliseconds))")
        }
    }

    /// The scheduler's settings from the parsed options.
    var schedulerConfiguration: SchedulerConfiguration {
        SchedulerConfiguration(
            helpDeskURL: helpDeskURL,
            callbackURL: callbackURL,
            maxInFlight: maxInFlight,
            pollInterval: .milliseconds(pollIntervalMilliseconds),
            retryPolicy: RetryPolicy(
                base: .milliseconds(requestRetryBaseMilliseconds),
                cap: .milliseconds(requestRetryCapMilliseconds),
                maxAttempts: requestMaxAttempts
            ),
            connectTimeout: .milliseconds(connectTimeoutMilliseconds),
            requestTimeout: .milliseconds(requestTimeoutMilliseconds),
            claimLease: .milliseconds(claimLeaseMilliseconds),
            reviewTimeout: reviewTimeout.duration
        )
    }

    func run() async throws {
        let configuration = schedulerConfiguration
        let databaseURL = database.databaseURL
        let metricsPort = metrics.metricsPort
        // The health server is listed first so it is shut down last and /metrics stays up while requests drain.
        try await DocketProcess.main(
            label: "docket-scheduler", common: common, gracefulShutdownTimeout: configuration.requestTimeout + .seconds(10),
            startMetadata: [
                "helpdesk_url": "\(configuration.helpDeskURL)", "max_in_flight": "\(configuration.maxInFlight)",
                "metrics_port": "\(metricsPort)",
            ]
        ) { context, resources in
            let scheduler = ReviewScheduler(
                configuration: configuration,
                database: resources.opened(StoreClient(url: databaseURL)) { $0.shutdown() },
                recording: resources.opened(StoreClient(url: databaseURL)) { $0.shutdown() },
                listener: resources.opened(StoreClient(url: databaseURL)) { $0.shutdown() },
                curl: resources.opened(CurlClient(maxConnections: configuration.maxInFlight)) { $0.shutdown() },
                metrics: SchedulerMetrics(),
                logger: context.logger
            )
            return [HealthServer(port: metricsPort, context: context, readiness: { scheduler.isReady }), scheduler]
        }
    }
}
