import Foundation
import Queue
import Redis
import TestSupport
import Testing

/// Docket on a Redis Cluster (docs/scaling.md; docs/reference.md §1, §4): DOCKET_REDIS_CLUSTER=1, eight partitions,
/// the whole flow (scheduler → helpdesk-sim → gateway → workers → Postgres). The shared cluster `ops/test` starts
/// carries the plain flow; resharding and failover run on a private cluster of their own, since they change it.
@Suite struct ClusterTests {
    static func settings(gateway: [String: String] = [:]) -> DocketSystem.Settings {
        var settings = DocketSystem.Settings()
        settings.cluster = true
        settings.partitions = 8
        settings.workerCount = 2
        settings.simRetryBaseMilliseconds = 100
        settings.simRetryCapMilliseconds = 1_000
        settings.gatewayEnvironment = gateway
        return settings
    }

    /// The primary (as ClusterNode) serving each partition's keys.
    static func primaries(_ system: DocketSystem) async throws -> [ClusterNode?] {
        let map = try await #require(system.clusterRedis).slotMap()
        return Partitioning(prefix: system.prefix, count: system.settings.partitions).allKeys.map { map.primary(for: ClusterSlot.of($0.events)) }
    }

    /// Gateway answers by outcome label, from its /metrics.
    static func outcomes(_ system: DocketSystem) throws -> [String: Double] {
        let reply = try LoopbackHTTPClient.exchange(port: system.gatewayPort, method: "GET", path: "/metrics")
        var counts: [String: Double] = [:]
        for line in reply.body.split(separator: "\n") where line.hasPrefix("docket_gateway_requests_total{") {
            guard let start = line.range(of: "outcome=\""), let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            let label = line[start.upperBound...].prefix { $0 != "\"" }
            counts[String(label)] = value
        }
        return counts
    }

    /// Only 202s and 503s (and probes) were answered: nothing else a Help Desk could see as a failure.
    static func expectOnly202And503(_ system: DocketSystem) throws -> [String: Double] {
        let counts = try outcomes(system)
        let allowed: Set<String> = ["accepted", "duplicate", "redis_unavailable", "replicas_unavailable", "over_backlog", "probe"]
        let other = counts.filter { !allowed.contains($0.key) && $0.value > 0 }
        #expect(other.isEmpty, "the gateway answered other than 202/503: \(other)")
        return counts
    }

    @Test(.timeLimit(.minutes(5)))
    func eightPartitionsOnTheClusterCarryTheWholeFlow() async throws {
        let count = SystemTestScale.count(400)
        var settings = Self.settings()
        settings.duplicateRate = 0.2
        // Unknown documents are given up on quickly, so the dead letters below come soon.
        settings.workerEnvironment = ["DOCKET_MAX_ATTEMPTS": "3", "DOCKET_RETRY_BASE_MS": "100", "DOCKET_RETRY_CAP_MS": "200"]
        let system = try DocketSystem(
            name: "cluster", redisURL: TestEnvironment.redisClusterURL,
            databaseURL: try TestEnvironment.makeDatabase("system_cluster"), settings: settings)
        defer { system.stopAll() }
        // The partitions sit on more than one primary, or this would test one Redis.
        let primaries = try await Self.primaries(system)
        #expect(Set(primaries.compactMap { $0 }).count > 1, "all 8 partitions on one primary: \(primaries)")

        try system.start()
        try system.submit(count, tag: "cluster")
        try await system.waitUntilSettled(count: count, timeout: .seconds(60 + count / 10))
        _ = try await system.expectEveryDocumentDecidedAsTheSimDecided(count: count)
        let answers = try Self.expectOnly202And503(system)
        #expect((answers["duplicate"] ?? 0) > 0, "the sim's duplicates were not recognised as such: \(answers)")

        // Every partition carried webhooks, each on the primary its slot names.
        for keys in Partitioning(prefix: system.prefix, count: 8).allKeys {
            let info = try await system.redisSend(key: keys.events, ["XINFO", "STREAM", RedisArgument(keys.events)])
            let added = PartitionTests.field("entries-added", in: info) ?? 0
            #expect(added > 0, "\(keys.events) received nothing")
        }
        // docketctl reads the cluster too: the stats sum every partition, each shown.
        let stats = try ChildProcess.run(product: "docketctl", arguments: ["stats", "--json"], environment: system.commonEnvironment)
        #expect(stats.status == 0, "\(stats.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect((report["partitions"] as? [[String: Any]])?.count == 8)
        #expect(report["backlog"] as? Int == 0)

        // Dead letters on the cluster: listed across partitions, each replayed into its own partition.
        let ids = (0..<6).map { "msg_cluster_unknown_\($0)_\(TestEnvironment.randomHex(4))" }
        for id in ids {
            #expect(try system.postVerdict(webhookId: id, documentId: "doc-nobody-\(id)") == 202)
        }
        try await waitUntil(timeout: .seconds(30), what: "6 dead letters") { try await system.queueLengths().dead == ids.count }
        let dead = try system.deadLetters()
        #expect(dead.count == ids.count)
        let partitioning = Partitioning(prefix: system.prefix, count: 8)
        for letter in dead {
            let id = try #require(letter["id"] as? String)
            let webhookId = try #require(letter["webhookId"] as? String)
            #expect(Int(id.split(separator: "-")[0]) == partitioning.partition(forWebhookId: webhookId), "\(id) for \(webhookId)")
        }
        let first = try #require(dead.first?["id"] as? String)
        let partition = try #require(Int(first.split(separator: "-")[0]))
        let events = partitioning.keys(partition).events
        let addedBefore = PartitionTests.field("entries-added", in: try await system.redisSend(key: events, ["XINFO", "STREAM", RedisArgument(events)])) ?? 0
        let replayed = try ChildProcess.run(product: "docketctl", arguments: ["dead", "replay", first], environment: system.commonEnvironment)
        #expect(replayed.status == 0, "\(replayed.stderr)")
        let addedAfter = PartitionTests.field("entries-added", in: try await system.redisSend(key: events, ["XINFO", "STREAM", RedisArgument(events)])) ?? 0
        #expect(addedAfter == addedBefore + 1, "the replay did not go back to partition \(partition)")
        let purged = try ChildProcess.run(
            product: "docketctl", arguments: ["dead", "purge", "--all", "--yes"], environment: system.commonEnvironment)
        #expect(purged.status == 0, "\(purged.stdout)\(purged.stderr)")
    }

    /// `redis-cli --cluster reshard` moves every slot of the primary serving partition 0 to another primary while
    /// webhooks arrive and workers drain: the gateway answers 503 while a slot moves (the sim retries), nothing is lost
    /// or applied twice, and every partition drains.
    @Test(.timeLimit(.minutes(6)))
    func reshardingUnderLoadLosesNothing() async throws {
        let count = SystemTestScale.count(600, minimum: 100)
        let cluster = try RedisClusterProcess.start()
        defer { cluster.stop() }
        var settings = Self.settings()
        // Verdicts spread over ~12 s: moving ~5,500 slots takes several seconds, and webhooks must keep arriving meanwhile.
        settings.simDelay = "200-12000"
        let system = try DocketSystem(
            name: "reshard", redisURL: cluster.url, databaseURL: try TestEnvironment.makeDatabase("system_reshard"), settings: settings)
        defer { system.stopAll() }
        try system.start()
        try system.submit(count, tag: "reshard")
        try await waitUntil(timeout: .seconds(60), what: "a tenth of the documents decided") {
            (await system.decidedCount() ?? 0) >= count / 10
        }

        let slot = ClusterSlot.of(Partitioning(prefix: system.prefix, count: 8).keys(0).events)
        let source = try #require(try cluster.primaryPort(forSlot: slot))
        let topology = try cluster.topology()
        let target = try #require(topology.first { $0.primary && !$0.failed && $0.port != source }?.port)
        let held = topology.first { $0.port == source }?.slots.reduce(0) { total, range in
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first else { return total }
            return total + (bounds.last ?? low) - low + 1
        } ?? 0
        let decidedBefore = await system.decidedCount() ?? 0
        try cluster.reshard(from: source, to: target, count: held)
        let decidedDuring = await system.decidedCount() ?? 0
        #expect(try cluster.primaryPort(forSlot: slot) == target, "partition 0's slot did not move")
        #expect(decidedDuring < count, "the load was over before the reshard ended (\(decidedBefore)→\(decidedDuring) of \(count))")

        try await system.waitUntilSettled(count: count, timeout: .seconds(120 + count / 10))
        _ = try await system.expectEveryDocumentDecidedAsTheSimDecided(count: count)
        _ = try Self.expectOnly202And503(system)
        #expect(system.gateway?.isRunning == true)
    }

    /// kill -9 of the primary serving partition 0 under load, with DOCKET_REDIS_MIN_REPLICAS=1: its replica takes
    /// over, the gateway answers 503 meanwhile and recovers by itself, and every webhook that got a 202 is applied
    /// exactly once (the killed node is started again and rejoins as a replica, so WAIT can be satisfied again).
    @Test(.timeLimit(.minutes(6)))
    func failoverWithOneReplicaRequiredLosesNothing() async throws {
        let outcome = try await Self.failover(minReplicas: 1, name: "failover1")
        #expect(outcome.lost == 0, "\(outcome.lost) webhooks answered 202 were lost")
        #expect(outcome.answers["replicas_unavailable", default: 0] + outcome.answers["redis_unavailable", default: 0] > 0,
                "no 503 during the failover: \(outcome.answers)")
    }

    /// The same failover with DOCKET_REDIS_MIN_REPLICAS=0: a 202 promises only the primary's memory, and what it had
    /// not replicated when it died is lost. The documented bound (docs/scaling.md, "What a 202 promises"): no more than
    /// the webhooks answered 202 in the second before the crash. Nothing is applied twice either way.
    @Test(.timeLimit(.minutes(6)))
    func failoverWithNoReplicaRequiredLosesAtMostTheLastSecond() async throws {
        let outcome = try await Self.failover(minReplicas: 0, name: "failover0")
        #expect(outcome.lost <= outcome.acceptedInLastSecond,
                "lost \(outcome.lost), more than the \(outcome.acceptedInLastSecond) webhooks answered 202 in the second before the kill")
        print("failover with 0 replicas required: lost \(outcome.lost) of \(outcome.acceptedInLastSecond) answered 202 in the last second")
    }

    struct FailoverOutcome {
        var lost: Int
        var acceptedInLastSecond: Int
        var answers: [String: Double]
    }

    static func failover(minReplicas: Int, name: String) async throws -> FailoverOutcome {
        let count = SystemTestScale.count(600, minimum: 100)
        let cluster = try RedisClusterProcess.start()
        defer { cluster.stop() }
        var settings = Self.settings(gateway: ["DOCKET_REDIS_MIN_REPLICAS": "\(minReplicas)", "DOCKET_REDIS_REPLICA_TIMEOUT_MS": "500"])
        settings.simDelay = "100-3000"
        let system = try DocketSystem(
            name: name, redisURL: cluster.url, databaseURL: try TestEnvironment.makeDatabase("system_\(name)"), settings: settings)
        defer { system.stopAll() }
        try system.start()
        try system.submit(count, tag: name)
        try await waitUntil(timeout: .seconds(60), what: "a quarter of the documents decided") {
            (await system.decidedCount() ?? 0) >= count / 4
        }

        // The 202s of the last second before the kill: what an unreplicated primary can take with it.
        let acceptedSecondBefore = try Self.outcomes(system)["accepted", default: 0]
        try await Task.sleep(for: .seconds(1))
        let slot = ClusterSlot.of(Partitioning(prefix: system.prefix, count: 8).keys(0).events)
        let victimPort = try #require(try cluster.primaryPort(forSlot: slot))
        let victim = try #require(cluster.node(port: victimPort))
        let acceptedAtKill = try Self.outcomes(system)["accepted", default: 0]
        victim.kill9()

        do {
            try waitUntil(timeout: .seconds(30), poll: .milliseconds(100), what: "a replica to take over slot \(slot)") {
                guard let port = try? cluster.primaryPort(forSlot: slot) else { return false }
                return port != victimPort
            }
        } catch {
            throw TestSupportError(.timeout, "\(error)\n\(cluster.diagnostics())")
        }
        try victim.start()
        try cluster.waitUntilHealthy(timeout: .seconds(30))

        let settled: Int
        if minReplicas > 0 {
            try await system.waitUntilSettled(count: count, timeout: .seconds(120 + count / 10))
            _ = try await system.expectEveryDocumentDecidedAsTheSimDecided(count: count)
            settled = count
        } else {
            // What was lost is never decided: wait until every verdict is delivered and the queue drained instead.
            try await waitUntil(timeout: .seconds(120 + count / 10), poll: .milliseconds(250), what: "every verdict delivered and the queue drained") {
                let reviews = try system.simReviews()
                guard reviews.count == count, reviews.allSatisfy(\.delivered) else { return false }
                let queue = try await system.queueLengths()
                return queue.events == 0 && queue.retry == 0 && queue.pending == 0
            }
            try await Task.sleep(for: .seconds(2))
            settled = await system.decidedCount() ?? 0
            // Nothing applied twice: one audit row per applied webhook, and never more rows than reviews decided.
            let rows = try await system.postgres.query("SELECT count(*) AS n, count(DISTINCT webhook_id) AS d FROM webhook_log").rows
            #expect(try rows.first?.int("n") == rows.first?.int("d"))
            #expect(try (rows.first?.int("n") ?? 0) == settled, "webhook_log rows differ from the decided reviews")
        }
        let answers = try Self.expectOnly202And503(system)
        #expect(system.gateway?.isRunning == true)
        return FailoverOutcome(lost: count - settled, acceptedInLastSecond: Int(acceptedAtKill - acceptedSecondBefore), answers: answers)
    }
}
