import ArgumentParser
import Curl
import Hummingbird
import Model
import Runtime
import StandardWebhooks

/// `helpdesk-sim`: a faithful stand-in for the external Help Desk (docs/reference.md §11), for the demo, tests and
/// benchmarks.
struct HelpDeskSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helpdesk-sim",
        abstract: "Simulated Help Desk: accepts review requests and delivers signed verdict webhooks to their callbacks."
    )

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("Port to listen on.", valueName: "port"))
    var port = 8090

    @Option(
        name: .customLong("delay-ms"),
        help: ArgumentHelp("Time the agent takes before the verdict is sent, LOW-HIGH or one number.", valueName: "ms")
    )
    var delay = DelayRange(low: 2000, high: 5000)

    @Option(name: .customLong("accept-rate"), help: ArgumentHelp("Share of verdicts that are ACCEPTED, 0...1.", valueName: "rate"))
    var acceptRate = 0.8

    @Option(name: .customLong("fail-rate"), help: ArgumentHelp("Share of POST /document answered 500, 0...1.", valueName: "rate"))
    var failRate = 0.0

    @Option(
        name: .customLong("duplicate-rate"),
        help: ArgumentHelp("Share of delivered verdicts delivered a second time (same webhook-id and body), 0...1.", valueName: "rate")
    )
    var duplicateRate = 0.0

    @Option(name: .customLong("retry-base-ms"), help: ArgumentHelp("First delivery retry delay; doubles per attempt.", valueName: "ms"))
    var retryBaseMilliseconds = 500

    @Option(name: .customLong("retry-cap-ms"), help: ArgumentHelp("Largest delay between delivery attempts.", valueName: "ms"))
    var retryCapMilliseconds = 30_000

    @Option(name: .customLong("max-delivery-attempts"), help: ArgumentHelp("Delivery attempts per verdict before giving up.", valueName: "n"))
    var maxDeliveryAttempts = 200

    @Option(name: .customLong("delivery-timeout-ms"), help: ArgumentHelp("Time allowed for one webhook POST.", valueName: "ms"))
    var deliveryTimeoutMilliseconds = 10_000

    @Option(
        name: .customLong("webhook-secret"),
        help: ArgumentHelp("Signing secret(s), whsec_..., space-separated; the first signs (env DOCKET_WEBHOOK_SECRET).", valueName: "secret")
    )
    var webhookSecret: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("Log line format on stderr (env DOCKET_LOG_FORMAT).", valueName: "format"))
    var logFormat: LogFormat = DocketEnvironment.value("DOCKET_LOG_FORMAT", default: LogFormat.text)

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Lowest level logged (env DOCKET_LOG_LEVEL).", valueName: "level"))
    var logLevel: LogLevel = DocketEnvironment.value("DOCKET_LOG_LEVEL", default: LogLevel.info)

    init() {}

    func validate() throws {
        try OptionCheck("--port").port(port)
        for (name, rate) in [("--accept-rate", acceptRate), ("--fail-rate", failRate), ("--duplicate-rate", duplicateRate)] {
            try OptionCheck(name).fraction(rate)
        }
        for (name, value) in [
            ("--retry-base-ms", retryBaseMilliseconds), ("--retry-cap-ms", retryCapMilliseconds),
            ("--max-delivery-attempts", maxDeliveryAttempts), ("--delivery-timeout-ms", deliveryTimeoutMilliseconds),
        ] {
            try OptionCheck(name).atLeast(1, value)
        }
        _ = try signingSecret()
    }

    /// The first configured secret; the error never contains the secret itself.
    func signingSecret() throws -> WebhookSecret {
        // Read here rather than as the option's default, so --help never prints a secret.
        do {
            let secrets = try WebhookSecret.configured(
                webhookSecret ?? DocketEnvironment.optionalString("DOCKET_WEBHOOK_SECRET"),
                source: webhookSecret == nil ? "DOCKET_WEBHOOK_SECRET" : "--webhook-secret")
            return secrets[0]
        } catch {
            throw ValidationError(error.description)
        }
    }

    var simulatorConfiguration: SimulatorConfiguration {
        SimulatorConfiguration(
            delay: delay,
            acceptRate: acceptRate,
            failRate: failRate,
            duplicateRate: duplicateRate,
            retryPolicy: RetryPolicy(
                base: .milliseconds(retryBaseMilliseconds),
                cap: .milliseconds(max(retryBaseMilliseconds, retryCapMilliseconds)),
                maxAttempts: maxDeliveryAttempts
            ),
            maxDeliveryAttempts: maxDeliveryAttempts,
            deliveryTimeout: .milliseconds(deliveryTimeoutMilliseconds)
        )
    }

    func run() async throws {
        let logger = LoggingBootstrap.bootstrap(format: logFormat, level: logLevel.level, label: "helpdesk-sim")
        let configuration = simulatorConfiguration
        let curl = CurlClient(maxConnections: 256)
        defer { curl.shutdown() }
        let ledger = ReviewLedger()
        let delivery = VerdictDelivery(
            ledger: ledger,
            curl: curl,
            signer: WebhookSigner(secret: try signingSecret()),
            configuration: configuration,
            logger: logger
        )
        let router = Router()
        HelpDeskRoutes(ledger: ledger, delivery: delivery, configuration: configuration).add(to: router)
        let application = Application(
            router: router,
            // A deep accept queue: benchmarks and schedulers open many connections in one burst.
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil, backlog: 4096),
            logger: logger
        )
        logger.info(
            "helpdesk-sim listening",
            metadata: [
                "address": "\(host):\(port)", "delay_ms": "\(delay)", "accept_rate": "\(acceptRate)",
                "fail_rate": "\(failRate)", "duplicate_rate": "\(duplicateRate)",
            ]
        )
        try await DocketProcess.run(services: [application, delivery], logger: logger, gracefulShutdownTimeout: .seconds(10))
    }
}
