import Foundation
import Model
import Queue
import Redis
import TestSupport
import Testing

/// `docketctl dead ...` run as the real binary against the shared Redis, each test under its own prefix.
@Suite struct DeadCommandTests {
    let redis: RedisConnection
    let queue: EventQueue
    let environment: [String: String]

    init() throws {
        redis = try RedisConnection(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        let prefix = TestEnvironment.uniquePrefix("ctl")
        queue = EventQueue(prefix: prefix)
        environment = ["DOCKET_REDIS_URL": TestEnvironment.redisURL, "DOCKET_REDIS_PREFIX": prefix]
    }

    func docketctl(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess.run(product: "docketctl", arguments: arguments, environment: environment)
    }

    /// Puts `count` events through the stream and into the dead stream with `reason`; returns their dead ids, oldest first.
    @discardableResult
    func makeDeadLetters(_ count: Int, reason: String, idPrefix: String = "w") throws -> [String] {
        for i in 0..<count {
            let body = #"{"agentId":"a\#(i)","documentId":"doc-\#(i)","documentStatus":"ACCEPTED"}"#
            let envelope = EventEnvelope(webhookId: "\(idPrefix)\(i)", timestamp: 1_700_000_000, receivedAt: 1_700_000_000_000,
                                         body: Array(body.utf8))
            _ = try queue.enqueue(envelope, dedupeTTLSeconds: 60, maxBacklog: 1_000_000, on: redis)
        }
        let entries = try queue.read(redis, consumer: "test", count: count, blockMilliseconds: 0, pending: false)
        for entry in entries {
            try queue.deadLetter(redis, entryId: entry.id, fields: entry.fields, reason: reason, attempts: 10, consumer: "test",
                                 failedAtMilliseconds: Int(Date().timeIntervalSince1970 * 1000))
        }
        let all = try queue.allDeadLetters(redis)
        return all.filter { $0.error == reason }.map(\.id)
    }

    func deadCount() throws -> Int { try redis.send("XLEN", RedisArgument(queue.keys.dead)).int ?? -1 }
    func eventCount() throws -> Int { try redis.send("XLEN", RedisArgument(queue.keys.events)).int ?? -1 }

    @Test func listPrintsATableAndTheDocumentedJSON() throws {
        let ids = try makeDeadLetters(3, reason: "document not known after 10 attempts")
        let table = try docketctl("dead", "list")
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("ID"))
        #expect(lines[1].hasPrefix(Substring(ids[2])))  // newest first, the id whole
        // Not a terminal: nothing is cut.
        #expect(lines[1].hasSuffix("document not known after 10 attempts"))
        #expect(table.stdout.contains("doc-2"))

        let json = try docketctl("dead", "list", "--json", "--limit", "2")
        #expect(json.status == 0)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        #expect(Set(array[0].keys) == ["id", "webhookId", "error", "attempts", "failedAt"])
        #expect(array[0]["id"] as? String == ids[2])
        #expect(array[0]["webhookId"] as? String == "w2")
        #expect(array[0]["attempts"] as? Int == 10)
        #expect(array[0]["error"] as? String == "document not known after 10 attempts")
        let failedAt = try #require(array[0]["failedAt"] as? String)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(formatter.date(from: failedAt) != nil)
    }

    @Test func showPrintsEverythingAndUnknownIdsExitOne() throws {
        let ids = try makeDeadLetters(1, reason: "permanent: document in state REQUEST_FAILED")
        let shown = try docketctl("dead", "show", ids[0])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("permanent: document in state REQUEST_FAILED"))
        #expect(shown.stdout.contains("\"documentId\" : \"doc-0\""))  // pretty-printed body
        let unknown = try docketctl("dead", "show", "1-1")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        #expect(unknown.stderr.contains("no dead letter with id 1-1"))
        let malformed = try docketctl("dead", "show", "not-an-id")
        #expect(malformed.status == 2)
    }

    @Test func replayByIdDryRunAndReason() throws {
        let unknown = try makeDeadLetters(2, reason: "document unknown", idPrefix: "u")
        try makeDeadLetters(2, reason: "undecodable body", idPrefix: "b")

        let dry = try docketctl("dead", "replay", "--all", "--dry-run")
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("4 dead letter(s) would be replayed"))
        #expect(try deadCount() == 4)
        #expect(try eventCount() == 0)

        let one = try docketctl("dead", "replay", unknown[0])
        #expect(one.status == 0)
        #expect(one.stdout.contains("replayed 1 dead letter(s)"))
        #expect(try deadCount() == 3)
        #expect(try eventCount() == 1)
        let again = try docketctl("dead", "replay", unknown[0])
        #expect(again.status == 1)

        let byReason = try docketctl("dead", "replay", "--all", "--reason", "unknown")
        #expect(byReason.stdout.contains("replayed 1 dead letter(s)"))
        let left = try queue.allDeadLetters(redis)
        #expect(left.map(\.error) == ["undecodable body", "undecodable body"])
        // Replayed events are fresh: attempt 0, no failure fields, the body verbatim.
        let events = try queue.read(redis, consumer: "check", count: 10, blockMilliseconds: 0, pending: false)
        #expect(events.count == 2)
        for event in events {
            #expect(event.string("attempt") == "0")
            #expect(event.value("error") == nil)
            #expect(try EventEnvelope(fields: event.fields).webhookId.hasPrefix("u"))
        }
    }

    @Test func purgeRefusesWithoutYes() throws {
        let ids = try makeDeadLetters(2, reason: "x")
        let refused = try docketctl("dead", "purge", "--all")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--yes"))
        #expect(try deadCount() == 2)
        let one = try docketctl("dead", "purge", ids[0], "--yes")
        #expect(one.status == 0)
        #expect(try deadCount() == 1)
        let all = try docketctl("dead", "purge", "--all", "--yes")
        #expect(all.stdout.contains("purged 1 dead letter(s)"))
        #expect(try deadCount() == 0)
    }

    @Test func concurrentReplayAllMovesEachEntryOnce() async throws {
        try makeDeadLetters(300, reason: "x")
        let environment = self.environment
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try ChildProcess.run(product: "docketctl", arguments: ["dead", "replay", "--all"], environment: environment).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == [0, 0])
        #expect(try deadCount() == 0)
        let events = try queue.read(redis, consumer: "check", count: 1000, blockMilliseconds: 0, pending: false)
        #expect(events.count == 300)
        #expect(Set(events.compactMap { $0.string("webhook_id") }).count == 300)
    }

    @Test func usageAndUnreachableServicesGiveTheDocumentedExitCodes() throws {
        #expect(try docketctl("dead", "replay").status == 2)
        #expect(try docketctl("dead", "replay", "1-1", "--all").status == 2)
        #expect(try docketctl("dead", "list", "--limit", "0").status == 2)
        #expect(try docketctl("dead", "frobnicate").status == 2)
        var unreachable = environment
        unreachable["DOCKET_REDIS_URL"] = "redis://127.0.0.1:\(freePort())/0"
        let result = try ChildProcess.run(product: "docketctl", arguments: ["dead", "list"], environment: unreachable)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach Redis at redis://127.0.0.1:"))
        #expect(try docketctl("dead", "--help").status == 0)
    }
}
