#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Postgres
import Queue
import Redis
import StandardWebhooks
import TestSupport
import Testing

/// The whole of Docket as real processes, for one test: helpdesk-sim, the gateway, workers and a scheduler, on free
/// ports, over its own database and Redis key prefix. Processes can be killed, restarted and replaced mid-run, and the
/// end state checked against what the simulated Help Desk decided.
final class DocketSystem {
    /// What to run and how; the defaults make a small, fast system.
    struct Settings {
        /// The agents' review time, helpdesk-sim `--delay-ms`.
        var simDelay = "50-300"
        var duplicateRate = 0.0
        var acceptRate = 0.7
        /// helpdesk-sim's first delivery retry delay and cap.
        var simRetryBaseMilliseconds = 100
        var simRetryCapMilliseconds = 1_000
        var workerCount = 2
        /// DOCKET_PARTITIONS for every process.
        var partitions = 1
        /// Extra environment for every worker (DOCKET_MAX_ATTEMPTS, DOCKET_VISIBILITY_TIMEOUT_MS, ...).
        var workerEnvironment: [String: String] = [:]
        /// Extra environment for the scheduler.
        var schedulerEnvironment: [String: String] = [:]
        /// Extra environment for the gateway.
        var gatewayEnvironment: [String: String] = [:]
        /// `redisURL` lists a Redis Cluster's seeds: every process gets DOCKET_REDIS_CLUSTER=1.
        var cluster = false
    }

    let name: String
    let settings: Settings
    let redisURL: String
    let databaseURL: String
    let prefix: String
    let secret: String
    let simPort = freePort()
    let gatewayPort = freePort()
    let schedulerMetricsPort = freePort()

    private(set) var sim: ChildProcess?
    private(set) var gateway: ChildProcess?
    private(set) var scheduler: ChildProcess?
    /// Live workers by consumer name, with their metrics port.
    private(set) var workers: [String: (process: ChildProcess, metricsPort: Int)] = [:]
    /// Processes that were stopped or killed, kept so their logs can still be shown.
    private var retired: [(label: String, process: ChildProcess)] = []

    let postgres: PostgresClient
    /// The one Redis (with `settings.cluster`, the first seed: use `redisSend` for keys).
    let redis: RedisClient
    /// With `settings.cluster`, the cluster, routed by key.
    let clusterRedis: RedisClusterClient?

    /// Prepares (but does not start) a system over `databaseURL` (migrated here) and `redisURL` with a fresh prefix.
    init(name: String, redisURL: String, databaseURL: String, settings: Settings = Settings()) throws {
        self.name = name
        self.settings = settings
        self.redisURL = redisURL
        self.databaseURL = databaseURL
        self.prefix = TestEnvironment.uniquePrefix(name)
        self.secret = "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        self.postgres = PostgresClient(url: databaseURL)
        if settings.cluster {
            let cluster = try ClusterConfiguration(url: redisURL)
            self.clusterRedis = RedisClusterClient(seeds: cluster.seeds, template: cluster.template)
            self.redis = RedisClient(configuration: cluster.template)
        } else {
            self.clusterRedis = nil
            self.redis = RedisClient(configuration: try RedisConfiguration(url: redisURL))
        }
        let migrate = try ChildProcess.run(product: "docketctl", arguments: ["migrate"], environment: commonEnvironment)
        guard migrate.status == 0 else {
            throw TestSupportError(.commandFailed, "docketctl migrate exited \(migrate.status): \(migrate.stderr)")
        }
    }

    deinit {
        stopAll()
        postgres.shutdown()
        redis.shutdown()
        clusterRedis?.shutdown()
    }

    /// One command about `key`, on the one Redis or on the cluster node serving its slot.
    @discardableResult
    func redisSend(key: String, _ arguments: [RedisArgument]) async throws -> RESPValue {
        if let clusterRedis { return try await clusterRedis.send(key: Array(key.utf8), arguments) }
        return try await redis.send(arguments)
    }

    // MARK: - Processes

    /// The environment every Docket process gets; explicit, so nothing leaks in from the developer's shell.
    var commonEnvironment: [String: String] {
        [
            "DOCKET_REDIS_URL": redisURL,
            "DOCKET_REDIS_PREFIX": prefix,
            "DOCKET_DATABASE_URL": databaseURL,
            "DOCKET_WEBHOOK_SECRET": secret,
            "DOCKET_LOG_FORMAT": "text",
            "DOCKET_LOG_LEVEL": "info",
            "DOCKET_PARTITIONS": String(settings.partitions),
            "DOCKET_REDIS_CLUSTER": settings.cluster ? "1" : "0",
        ]
    }

    /// Starts the sim, the gateway, `settings.workerCount` workers and the scheduler, each once it is ready.
    func start() throws {
        try startSim()
        try startGateway()
        for index in 1...settings.workerCount {
            try startWorker(consumer: "\(name)-worker-\(index)")
        }
        try startScheduler()
    }

    func startSim() throws {
        let process = try ChildProcess.launch(
            product: "helpdesk-sim",
            arguments: [
                "--port", "\(simPort)", "--delay-ms", settings.simDelay,
                "--accept-rate", "\(settings.acceptRate)", "--duplicate-rate", "\(settings.duplicateRate)",
                "--retry-base-ms", "\(settings.simRetryBaseMilliseconds)", "--retry-cap-ms", "\(settings.simRetryCapMilliseconds)",
            ],
            environment: commonEnvironment)
        sim = process
        try waitReady(process, label: "helpdesk-sim", port: simPort, path: "/livez")
    }

    func startGateway() throws {
        var environment = commonEnvironment
        environment["DOCKET_GATEWAY_HOST"] = "127.0.0.1"
        environment["DOCKET_GATEWAY_PORT"] = "\(gatewayPort)"
        environment.merge(settings.gatewayEnvironment) { _, new in new }
        let process = try ChildProcess.launch(product: "docket-gateway", environment: environment)
        gateway = process
        try waitReady(process, label: "docket-gateway", port: gatewayPort, path: "/readyz")
    }

    /// Starts a worker named `consumer`; a restarted worker with its old name resumes its own pending entries.
    func startWorker(consumer: String) throws {
        let metricsPort = freePort()
        var environment = commonEnvironment
        environment["DOCKET_METRICS_PORT"] = "\(metricsPort)"
        environment.merge(settings.workerEnvironment) { _, new in new }
        let process = try ChildProcess.launch(
            product: "docket-worker", arguments: ["--consumer", consumer], environment: environment)
        workers[consumer] = (process, metricsPort)
        try waitReady(process, label: "docket-worker \(consumer)", port: metricsPort, path: "/readyz")
    }

    func startScheduler() throws {
        var environment = commonEnvironment
        environment["DOCKET_METRICS_PORT"] = "\(schedulerMetricsPort)"
        environment["DOCKET_HELPDESK_URL"] = "http://127.0.0.1:\(simPort)"
        environment["DOCKET_CALLBACK_URL"] = "http://127.0.0.1:\(gatewayPort)/document/update"
        environment["DOCKET_POLL_INTERVAL_MS"] = "200"
        environment.merge(settings.schedulerEnvironment) { _, new in new }
        let process = try ChildProcess.launch(product: "docket-scheduler", environment: environment)
        scheduler = process
        try waitReady(process, label: "docket-scheduler", port: schedulerMetricsPort, path: "/readyz")
    }

    /// SIGKILL a worker: a crash with entries in hand.
    func killWorker(_ consumer: String) {
        guard let worker = workers.removeValue(forKey: consumer) else { return }
        worker.process.kill9()
        _ = worker.process.waitForExit(timeout: .seconds(10))
        retired.append(("docket-worker \(consumer) (killed)", worker.process))
    }

    /// SIGKILL the scheduler.
    func killScheduler() {
        guard let process = scheduler else { return }
        process.kill9()
        _ = process.waitForExit(timeout: .seconds(10))
        retired.append(("docket-scheduler (killed)", process))
        scheduler = nil
    }

    /// SIGTERM the gateway and wait for its graceful exit (status 0 expected).
    @discardableResult
    func stopGateway() -> Int32? {
        guard let process = gateway else { return nil }
        process.terminate()
        let status = process.waitForExit(timeout: .seconds(20))
        if status == nil { process.kill9() }
        retired.append(("docket-gateway (stopped)", process))
        gateway = nil
        return status
    }

    /// SIGSTOP / SIGCONT the sim: while stopped, connections queue in its listen backlog and nothing is answered.
    func pauseSim(_ paused: Bool) {
        guard let sim else { return }
        kill(sim.pid, paused ? SIGSTOP : SIGCONT)
    }

    /// Stops every process, gracefully first.
    func stopAll() {
        var running: [ChildProcess] = []
        if let scheduler { running.append(scheduler) }
        running += workers.values.map(\.process)
        if let gateway { running.append(gateway) }
        if let sim {
            kill(sim.pid, SIGCONT)
            running.append(sim)
        }
        for process in running { process.terminate() }
        for process in running where process.waitForExit(timeout: .seconds(15)) == nil {
            process.kill9()
        }
    }

    private func waitReady(_ process: ChildProcess, label: String, port: Int, path: String) throws {
        try waitUntil(timeout: .seconds(60), poll: .milliseconds(50), what: "\(label) to answer \(path) on \(port)") {
            guard process.isRunning else {
                throw TestSupportError(.launchFailed, "\(label) exited at start:\n\(process.output.suffix(3000))")
            }
            return (try? LoopbackHTTPClient.exchange(port: port, method: "GET", path: path))?.status == 200
        }
    }

    /// The end of every process's log, current and retired, for failure messages.
    func logs(lines: Int = 15) -> String {
        var all: [(String, ChildProcess)] = retired.map { ($0.label, $0.process) }
        if let sim { all.append(("helpdesk-sim", sim)) }
        if let gateway { all.append(("docket-gateway", gateway)) }
        for (consumer, worker) in workers.sorted(by: { $0.key < $1.key }) { all.append(("docket-worker \(consumer)", worker.process)) }
        if let scheduler { all.append(("docket-scheduler", scheduler)) }
        return all.map { label, process in
            let tail = process.output.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            return "--- \(label) (pid \(process.pid))\n\(tail)"
        }.joined(separator: "\n")
    }

    // MARK: - Driving

    /// Queues `count` documents with `docketctl submit --file -`; returns their ids.
    @discardableResult
    func submit(_ count: Int, tag: String) throws -> [Int] {
        let urls = (1...count).map { "https://docs.example.com/\(name)/\(tag)/document-\($0).pdf" }.joined(separator: "\n")
        let result = try ChildProcess.run(
            product: "docketctl", arguments: ["submit", "--file", "-"], environment: commonEnvironment, stdin: urls + "\n")
        guard result.status == 0 else {
            throw TestSupportError(.commandFailed, "docketctl submit exited \(result.status): \(result.stderr)")
        }
        let ids = result.stdout.split(separator: "\n").compactMap { Int($0) }
        guard ids.count == count else {
            throw TestSupportError(.commandFailed, "docketctl submit printed \(ids.count) ids for \(count) documents")
        }
        return ids
    }

    /// Posts one signed verdict to the gateway; returns the HTTP status.
    func postVerdict(webhookId: String, documentId: String, agentId: String = "agent-system", status: String = "ACCEPTED") throws -> Int {
        let body = Array(#"{"agentId":"\#(agentId)","documentId":"\#(documentId)","documentStatus":"\#(status)"}"#.utf8)
        let signer = WebhookSigner(secret: try WebhookSecret(secret))
        let headers = [(name: "Content-Type", value: "application/json")]
            + signer.headers(id: webhookId, timestamp: Int(Date().timeIntervalSince1970), body: body)
        return try LoopbackHTTPClient.exchange(
            port: gatewayPort, method: "POST", path: "/document/update", headers: headers, body: body
        ).status
    }

    // MARK: - Observing

    /// Reviews by status in Postgres (absent statuses are 0).
    func statusCounts() async throws -> [String: Int] {
        let result = try await postgres.query("SELECT document_status, count(*) AS n FROM document_reviews GROUP BY 1")
        var counts: [String: Int] = [:]
        for row in result.rows {
            counts[try row.string("document_status")] = try row.int("n") ?? 0
        }
        return counts
    }

    /// ACCEPTED + DECLINED reviews; nil while Postgres cannot be reached (during an outage).
    func decidedCount() async -> Int? {
        guard let counts = try? await statusCounts() else { return nil }
        return (counts["ACCEPTED"] ?? 0) + (counts["DECLINED"] ?? 0)
    }

    /// QUEUED reviews a scheduler holds a live claim on.
    func claimsInHand() async throws -> Int {
        let result = try await postgres.query(
            "SELECT count(*) AS n FROM document_reviews WHERE document_status = 'QUEUED' AND claimed_until > now()")
        return try result.rows.first?.int("n") ?? 0
    }

    /// Every review the simulated Help Desk holds.
    func simReviews() throws -> [HelpDeskReview] {
        let reply = try LoopbackHTTPClient.exchange(port: simPort, method: "GET", path: "/documents")
        guard reply.status == 200 else {
            throw TestSupportError(.commandFailed, "helpdesk-sim GET /documents answered \(reply.status)")
        }
        return try JSONDecoder().decode([HelpDeskReview].self, from: Data(reply.body.utf8))
    }

    /// Lengths of the events streams, the retry sets and the dead streams, and the group's pending count, summed over
    /// the partitions.
    func queueLengths() async throws -> (events: Int, retry: Int, dead: Int, pending: Int) {
        var total = (events: 0, retry: 0, dead: 0, pending: 0)
        for keys in Partitioning(prefix: prefix, count: settings.partitions).allKeys {
            let events = try await redisSend(key: keys.events, ["XLEN", RedisArgument(keys.events)]).int ?? 0
            total.events += events
            total.retry += try await redisSend(key: keys.retry, ["ZCARD", RedisArgument(keys.retry)]).int ?? 0
            total.dead += try await redisSend(key: keys.dead, ["XLEN", RedisArgument(keys.dead)]).int ?? 0
            if events > 0 {
                let summary = try await redisSend(key: keys.events, ["XPENDING", RedisArgument(keys.events), "workers"])
                total.pending += summary.array?.first?.int ?? 0
            }
        }
        return total
    }

    /// Dead letters as `docketctl dead list --json` prints them.
    func deadLetters() throws -> [[String: Any]] {
        let result = try ChildProcess.run(
            product: "docketctl", arguments: ["dead", "list", "--json", "--limit", "1000"], environment: commonEnvironment)
        guard result.status == 0 else {
            throw TestSupportError(.commandFailed, "docketctl dead list exited \(result.status): \(result.stderr)")
        }
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// The value of one Prometheus sample from `port`'s /metrics (0 when absent): `name` plus a label fragment.
    func metric(port: Int, name: String, labels: String) throws -> Double {
        let reply = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/metrics")
        for line in reply.body.split(separator: "\n") where line.hasPrefix(name + "{") && line.contains(labels) {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return 0
    }

    // MARK: - Waiting and checking

    /// Waits until `count` reviews are decided in Postgres, the sim reports every verdict delivered, and the queue is
    /// drained (no backlog, retries or pending entries): the state the end-of-run checks compare.
    func waitUntilSettled(count: Int, timeout: Duration) async throws {
        var last = "nothing yet"
        do {
            try await waitUntil(timeout: timeout, poll: .milliseconds(250), what: "\(count) documents decided and delivered") {
                guard let decided = await decidedCount() else { return false }
                last = "\(decided)/\(count) decided in Postgres"
                guard decided >= count else { return false }
                let reviews = try simReviews()
                let undelivered = reviews.filter { !$0.delivered }.count
                last += ", \(reviews.count) sim reviews, \(undelivered) undelivered"
                guard undelivered == 0 else { return false }
                let queue = try await queueLengths()
                last += ", events \(queue.events) retry \(queue.retry) pending \(queue.pending) dead \(queue.dead)"
                return queue.events == 0 && queue.retry == 0 && queue.pending == 0
            }
        } catch {
            throw TestSupportError(.timeout, "\(error) (last seen: \(last))\n\(logs())")
        }
    }

    /// The end-to-end promise, checked row by row: exactly `count` reviews, each decided as the Help Desk decided,
    /// each decided by the webhook id the sim sent (`last_webhook_id`), one audit row per webhook id, nothing in the
    /// dead stream.
    func expectEveryDocumentDecidedAsTheSimDecided(count: Int) async throws -> [HelpDeskReview] {
        let reviews = try simReviews()
        let byDocument = Dictionary(reviews.map { ($0.documentId, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(reviews.count == count, "the sim holds \(reviews.count) reviews for \(count) documents (one each expected)")
        #expect(byDocument.count == reviews.count, "the sim issued a document id twice")

        let rows = try await postgres.query(
            "SELECT id, document_url, document_status, document_id, agent_id, last_webhook_id FROM document_reviews ORDER BY id").rows
        #expect(rows.count == count, "Postgres holds \(rows.count) reviews for \(count) submitted")
        var mismatches: [String] = []
        for row in rows {
            let id = try row.int("id") ?? -1
            guard let documentId = row["document_id"], let review = byDocument[documentId] else {
                mismatches.append("review \(id) (\(row["document_status"] ?? "?")) has no sim review (document_id \(row["document_id"] ?? "NULL"))")
                continue
            }
            if row["document_status"] != review.documentStatus {
                mismatches.append("review \(id): Postgres \(row["document_status"] ?? "NULL"), sim decided \(review.documentStatus)")
            }
            if row["document_url"] != review.documentUrl { mismatches.append("review \(id): document_url differs from the sim's") }
            if row["agent_id"] != review.agentId { mismatches.append("review \(id): agent_id differs from the sim's") }
            if row["last_webhook_id"] != review.webhookId { mismatches.append("review \(id): decided by another webhook than the sim's") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) reviews differ from the Help Desk's verdicts: \(mismatches.prefix(10))")

        let processed = try await postgres.query("SELECT webhook_id, document_id FROM webhook_log").rows
        var processedDocument: [String: String] = [:]
        for row in processed {
            processedDocument[try row.string("webhook_id")] = row["document_id"]
        }
        #expect(processed.count == count, "\(processed.count) webhook_log rows for \(count) webhooks")
        let missing = reviews.filter { review in
            guard let webhookId = review.webhookId else { return true }
            return processedDocument[webhookId] != review.documentId
        }
        #expect(missing.isEmpty, "\(missing.count) delivered webhooks have no webhook_log row for their document: \(missing.prefix(5))")
        let undelivered = reviews.filter { !$0.delivered }
        #expect(undelivered.isEmpty, "\(undelivered.count) verdicts were never acknowledged by the gateway")

        let queue = try await queueLengths()
        let dead = queue.dead == 0 ? [] : try deadLetters()
        #expect(queue.dead == 0, "\(queue.dead) dead letters: \(dead.prefix(5))")
        #expect(queue.events == 0 && queue.retry == 0, "queue not drained: \(queue)")
        return reviews
    }
}
