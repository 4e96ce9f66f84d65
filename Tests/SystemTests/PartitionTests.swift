import Foundation
import Queue
import Redis
import TestSupport
import Testing

/// DOCKET_PARTITIONS > 1 on one Redis (docs/reference.md §8): the gateway spreads webhooks over the partitions by
/// their id, the workers drain every partition, and docketctl sums, lists and replays across them.
@Suite struct PartitionTests {
    @Test(.timeLimit(.minutes(5)))
    func fourPartitionsCarryTheWholeFlowAndDocketctlSeesThemAll() async throws {
        let count = SystemTestScale.count(300)
        var settings = DocketSystem.Settings()
        settings.partitions = 4
        settings.duplicateRate = 0.2
        settings.workerCount = 2
        // Unknown documents are given up on quickly (three attempts 100 ms apart), so the dead letters below come soon.
        settings.workerEnvironment = ["DOCKET_MAX_ATTEMPTS": "3", "DOCKET_RETRY_BASE_MS": "100", "DOCKET_RETRY_CAP_MS": "200"]
        let system = try DocketSystem(
            name: "partitions", redisURL: TestEnvironment.redisURL, databaseURL: try TestEnvironment.makeDatabase("system_partitions"),
            settings: settings)
        try system.start()
        try system.submit(count, tag: "partitions")
        try await system.waitUntilSettled(count: count, timeout: .seconds(60 + count / 10))
        _ = try await system.expectEveryDocumentDecidedAsTheSimDecided(count: count)

        // Every partition carried webhooks.
        let partitioning = Partitioning(prefix: system.prefix, count: 4)
        for (index, keys) in partitioning.allKeys.enumerated() {
            let info = try await system.redis.send("XINFO", "STREAM", RedisArgument(keys.events))
            let added = Self.field("entries-added", in: info) ?? 0
            #expect(added > 0, "partition \(index) received nothing")
        }

        // Verdicts for documents nobody knows: dead letters, in the partitions their ids hash to.
        let ids = (0..<12).map { "msg_unknown_\($0)_\(TestEnvironment.randomHex(4))" }
        for id in ids {
            #expect(try system.postVerdict(webhookId: id, documentId: "doc-nobody-\(id)") == 202)
        }
        try await waitUntil(timeout: .seconds(30), what: "12 dead letters") { try await system.queueLengths().dead == ids.count }
        let dead = try system.deadLetters()
        #expect(dead.count == ids.count)
        let shownIds = dead.compactMap { $0["id"] as? String }
        // Qualified: partition, then the entry id; each in the partition the gateway hashed its webhook id to.
        for letter in dead {
            let id = try #require(letter["id"] as? String)
            let webhookId = try #require(letter["webhookId"] as? String)
            let partition = Int(id.split(separator: "-")[0])
            #expect(partition == partitioning.partition(forWebhookId: webhookId), "\(id) for \(webhookId)")
        }
        #expect(Set(shownIds.map { $0.split(separator: "-")[0] }).count > 1, "dead letters in more than one partition")

        // stats sums and shows each partition.
        let stats = try ChildProcess.run(product: "docketctl", arguments: ["stats", "--json"], environment: system.commonEnvironment)
        #expect(stats.status == 0, "\(stats.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(report["dead"] as? Int == ids.count)
        let perPartition = try #require(report["partitions"] as? [[String: Any]])
        #expect(perPartition.count == 4)
        #expect(perPartition.compactMap { $0["dead"] as? Int }.reduce(0, +) == ids.count)

        // One shown, one replayed back into its own partition (and dead again: its document is still unknown), one purged.
        let first = shownIds[0]
        let shown = try ChildProcess.run(product: "docketctl", arguments: ["dead", "show", first], environment: system.commonEnvironment)
        #expect(shown.status == 0 && shown.stdout.contains("doc-nobody-"), "\(shown.stderr)")
        let purged = try ChildProcess.run(
            product: "docketctl", arguments: ["dead", "purge", shownIds[1], "--yes"], environment: system.commonEnvironment)
        #expect(purged.status == 0 && purged.stdout.contains("purged 1"), "\(purged.stdout)\(purged.stderr)")
        let replayed = try ChildProcess.run(product: "docketctl", arguments: ["dead", "replay", first], environment: system.commonEnvironment)
        #expect(replayed.status == 0, "\(replayed.stderr)")
        let partition = try #require(Int(first.split(separator: "-")[0]))
        let replayedInto = try await system.redis.send("XINFO", "STREAM", RedisArgument(partitioning.keys(partition).events))
        #expect((Self.field("entries-added", in: replayedInto) ?? 0) > 0)
        try waitUntil(timeout: .seconds(30), what: "the replayed one dead again") {
            try system.deadLetters().count == ids.count - 1
        }
        // Lowering the count would strand those dead letters: a worker refuses to start, saying how to proceed.
        let lowered = try ChildProcess.launch(
            product: "docket-worker",
            environment: system.commonEnvironment.merging(["DOCKET_PARTITIONS": "1", "DOCKET_METRICS_PORT": "0"]) { _, new in new })
        defer { lowered.terminate() }
        #expect(lowered.waitForExit(timeout: .seconds(20)) == 2)
        #expect(lowered.output.contains("--partitions (DOCKET_PARTITIONS) is 1, but partitions"), "\(lowered.output)")
        #expect(lowered.output.contains("run the workers with DOCKET_PARTITIONS="), "\(lowered.output)")
        let missing = try ChildProcess.run(
            product: "docketctl", arguments: ["dead", "show", "7-1-0"], environment: system.commonEnvironment)
        #expect(missing.status == 1, "partition 7 does not exist with four: no such dead letter")
    }

    static func field(_ name: String, in reply: RESPValue) -> Int? {
        guard let flat = reply.array else { return nil }
        var index = 0
        while index + 1 < flat.count {
            if flat[index].string == name { return flat[index + 1].int }
            index += 2
        }
        return nil
    }
}
