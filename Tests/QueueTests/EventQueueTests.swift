import Foundation
import Model
import Queue
import Redis
import TestSupport
import Testing

/// Live tests of the queue's scripts against the shared Redis; each test has its own key prefix.
@Suite struct EventQueueTests {
    let redis: RedisConnection
    let queue: EventQueue

    init() throws {
        redis = try RedisConnection(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        queue = EventQueue(prefix: TestEnvironment.uniquePrefix("queue"))
    }

    func envelope(_ id: String, body: String = #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"}"#) -> EventEnvelope {
        EventEnvelope(webhookId: id, timestamp: 1_700_000_000, receivedAt: 1_700_000_000_123, body: Array(body.utf8))
    }

    func enqueue(_ e: EventEnvelope, maxBacklog: Int = 1000) throws -> EnqueueOutcome {
        try queue.enqueue(e, dedupeTTLSeconds: 60, maxBacklog: maxBacklog, on: redis)
    }

    func length(_ key: String) throws -> Int { try redis.send("XLEN", RedisArgument(key)).int ?? -1 }

    @Test func enqueueDedupesAndKeepsTheBodyVerbatim() throws {
        let body: [UInt8] = Array(#"{"agentId":"a",  "documentId":"d|1:2","documentStatus":"DECLINED","x":"\u0000"}"#.utf8) + [0x20]
        var e = envelope("msg_1")
        e.body = body
        guard case .accepted(let id) = try enqueue(e) else {
            Issue.record("first enqueue was not accepted")
            return
        }
        #expect(try enqueue(e) == .duplicate)
        #expect(try length(queue.keys.events) == 1)
        let stored = try #require(try queue.event(redis, id: id))
        #expect(stored.value("body") == body)
        #expect(try EventEnvelope(fields: stored.fields) == e)
        // The dedupe key expires after the configured window.
        let ttl = try redis.send("TTL", RedisArgument(queue.keys.seen("msg_1"))).int ?? -1
        #expect((1...60).contains(ttl))
    }

    @Test func backlogLimitRefusesButStillRecognisesDuplicates() throws {
        #expect(try enqueue(envelope("a"), maxBacklog: 2) != .overBacklog)
        #expect(try enqueue(envelope("b"), maxBacklog: 2) != .overBacklog)
        #expect(try enqueue(envelope("c"), maxBacklog: 2) == .overBacklog)
        #expect(try enqueue(envelope("a"), maxBacklog: 2) == .duplicate)
        #expect(try length(queue.keys.events) == 2)
        // A refused webhook was not marked seen: once there is room it is accepted.
        #expect(try redis.send("EXISTS", RedisArgument(queue.keys.seen("c"))) == .integer(0))
    }

    @Test func eventsEnqueuedBeforeAnyWorkerAreRead() throws {
        for i in 0..<3 { _ = try enqueue(envelope("early-\(i)")) }
        // The group was created with the stream at id 0, so a first reader sees every event.
        let entries = try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: false)
        #expect(entries.map { $0.string("webhook_id") } == ["early-0", "early-1", "early-2"])
        // They are now pending for w1: a pending read returns them again; a new read returns nothing.
        #expect(try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: true).count == 3)
        #expect(try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: false).isEmpty)
        #expect(try queue.acknowledge(redis, ids: entries.map(\.id)) == 3)
        #expect(try length(queue.keys.events) == 0)
        #expect(try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: true).isEmpty)
    }

    @Test func readRecreatesALostGroup() throws {
        _ = try enqueue(envelope("x"))
        try redis.send("DEL", RedisArgument(queue.keys.events))
        // As after a Redis restart without persistence: no stream, no group.
        #expect(try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: false).isEmpty)
        _ = try enqueue(envelope("y"))
        #expect(try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: false).count == 1)
    }

    @Test func retryThenPromoteBringsTheEventBackWithItsAttempt() throws {
        var e = envelope("r1", body: "a|b:c\u{0}d")
        _ = try enqueue(e)
        let entry = try #require(try queue.read(redis, consumer: "w1", count: 1, blockMilliseconds: 0, pending: false).first)
        e.attempt = 1
        #expect(try queue.scheduleRetry(redis, entryId: entry.id, envelope: e, dueAtMilliseconds: 5_000))
        // Not pending any more, so a second attempt to schedule it does nothing.
        #expect(try !queue.scheduleRetry(redis, entryId: entry.id, envelope: e, dueAtMilliseconds: 5_000))
        #expect(try length(queue.keys.events) == 0)
        #expect(try queue.promoteDueRetries(redis, nowMilliseconds: 4_999, limit: 10) == 0)
        #expect(try queue.promoteDueRetries(redis, nowMilliseconds: 5_000, limit: 10) == 1)
        #expect(try queue.promoteDueRetries(redis, nowMilliseconds: 9_000, limit: 10) == 0)
        let again = try #require(try queue.read(redis, consumer: "w1", count: 1, blockMilliseconds: 0, pending: false).first)
        #expect(try EventEnvelope(fields: again.fields) == e)
    }

    @Test func deadLetterReplayAndPurge() throws {
        _ = try enqueue(envelope("d1"))
        _ = try enqueue(envelope("d2"))
        let entries = try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: false)
        for entry in entries {
            #expect(try queue.deadLetter(redis, entryId: entry.id, fields: entry.fields, reason: "document unknown",
                                         attempts: 10, consumer: "w1", failedAtMilliseconds: 1_700_000_001_000)
                == DeadLettering(moved: true, trimmed: 0))
        }
        #expect(try length(queue.keys.events) == 0)
        let dead = try queue.deadLetters(redis, limit: 10)
        #expect(dead.map(\.webhookId) == ["d2", "d1"])  // newest first
        #expect(dead[0].error == "document unknown")
        #expect(dead[0].attempts == 10)
        #expect(dead[0].consumer == "w1")
        #expect(dead[0].failedAtMilliseconds == 1_700_000_001_000)

        let newId = try #require(try queue.replay(redis, deadLetterId: dead[1].id))
        #expect(try queue.replay(redis, deadLetterId: dead[1].id) == nil)
        let replayed = try #require(try queue.event(redis, id: newId))
        #expect(replayed.string("attempt") == "0")
        #expect(replayed.value("error") == nil)
        #expect(try EventEnvelope(fields: replayed.fields).webhookId == "d1")
        #expect(try queue.purge(redis, deadLetterIds: [dead[0].id, "1-1"]) == 1)
        #expect(try queue.deadLetters(redis, limit: 10).isEmpty)
    }

    /// The retry member is written in Swift and read back in Lua: any bytes, any lengths (one, two, three digits),
    /// survive the round trip.
    @Test(arguments: [UInt64(1), 2, 3])
    func retryEncodingRoundTripsAnyBytesThroughTheLuaPromoter(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var sent: [EventEnvelope] = []
        for index in 0..<12 {
            let length = [0, 1, 9, 10, 99, 100, 250, 1_000][index % 8] + Int.random(in: 0...3, using: &random)
            let body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            var e = EventEnvelope(webhookId: "bin-\(seed)-\(index)", timestamp: 1_700_000_000, receivedAt: 1, body: body)
            _ = try enqueue(e)
            let entry = try #require(try queue.read(redis, consumer: "w1", count: 1, blockMilliseconds: 0, pending: false).first)
            e.attempt = index + 1
            #expect(try queue.scheduleRetry(redis, entryId: entry.id, envelope: e, dueAtMilliseconds: 1_000))
            sent.append(e)
        }
        #expect(try queue.promoteDueRetries(redis, nowMilliseconds: 1_000, limit: 100) == sent.count)
        let back = try queue.read(redis, consumer: "w1", count: 100, blockMilliseconds: 0, pending: false)
        let received = try back.map { try EventEnvelope(fields: $0.fields) }
        #expect(Set(received.map(\.webhookId)) == Set(sent.map(\.webhookId)))
        for envelope in sent {
            #expect(received.first { $0.webhookId == envelope.webhookId } == envelope, "\(envelope.webhookId)")
        }
    }

    /// The whole stream is read, page after page, in order.
    @Test func eventsAreReadWholeInPages() throws {
        let ids = (0..<25).map { "page-\($0)" }
        for id in ids { _ = try enqueue(envelope(id)) }
        #expect(try queue.events(redis, pageSize: 10).map { $0.string("webhook_id") } == ids)
        #expect(try queue.events(redis, pageSize: 25).count == 25)
    }

    /// Group lag, stale entries and claims read as "nothing" when Redis has lost the stream, instead of failing.
    @Test func lagAndReclaimReadAMissingGroupAsEmpty() throws {
        #expect(try queue.groupLag(redis) == 0)
        #expect(try queue.stalePending(redis, minIdleMilliseconds: 0, count: 10).isEmpty)
        let claimed = try queue.claim(redis, consumer: "w1", minIdleMilliseconds: 0, cursor: "0-0", count: 10)
        #expect(claimed.nextCursor == "0-0" && claimed.entries.isEmpty && claimed.deletedIds.isEmpty)
        for i in 0..<3 { _ = try enqueue(envelope("lag\(i)")) }
        #expect(try queue.groupLag(redis) == 3)
        _ = try queue.read(redis, consumer: "w1", count: 2, blockMilliseconds: 0, pending: false)
        #expect(try queue.groupLag(redis) == 1)
        #expect(try queue.stalePending(redis, minIdleMilliseconds: 0, count: 10).count == 2)
    }

    /// A bounded dead stream keeps its newest entries and reports every one it trims; a settled entry moves nothing.
    @Test func deadStreamIsTrimmedToItsBoundAndSaysHowMany() throws {
        for i in 0..<5 { _ = try enqueue(envelope("t\(i)")) }
        let entries = try queue.read(redis, consumer: "w1", count: 10, blockMilliseconds: 0, pending: false)
        var results: [DeadLettering] = []
        for entry in entries {
            results.append(try queue.deadLetter(redis, entryId: entry.id, fields: entry.fields, reason: "x", attempts: 1,
                                                consumer: "w1", failedAtMilliseconds: 1, maxLength: 3))
        }
        #expect(results.map(\.trimmed) == [0, 0, 0, 1, 1])
        #expect(results.filter { !$0.moved }.isEmpty)
        #expect(try queue.deadLetters(redis, limit: 10).map(\.webhookId) == ["t4", "t3", "t2"])
        // Settled already: not pending any more, so nothing moves and nothing is trimmed.
        #expect(try queue.deadLetter(redis, entryId: entries[0].id, fields: entries[0].fields, reason: "x", attempts: 1,
                                     consumer: "w1", failedAtMilliseconds: 1, maxLength: 1) == DeadLettering(moved: false, trimmed: 0))
        #expect(try length(queue.keys.dead) == 3)
    }

    @Test func concurrentReplaysMoveEachDeadLetterOnce() async throws {
        let count = 200
        for i in 0..<count { _ = try enqueue(envelope("c\(i)")) }
        let entries = try queue.read(redis, consumer: "w1", count: count, blockMilliseconds: 0, pending: false)
        for entry in entries {
            try queue.deadLetter(redis, entryId: entry.id, fields: entry.fields, reason: "x", attempts: 1, consumer: "w1",
                                 failedAtMilliseconds: 1)
        }
        let ids = try queue.allDeadLetters(redis).map(\.id)
        #expect(ids.count == count)
        let url = TestEnvironment.redisURL
        let queue = self.queue
        let moved = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let own = try RedisConnection(configuration: try RedisConfiguration(url: url))
                    return try ids.filter { try queue.replay(own, deadLetterId: $0) != nil }.count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(moved == count)
        #expect(try length(queue.keys.events) == count)
        #expect(try length(queue.keys.dead) == 0)
    }

    @Test func stalePendingAndClaim() throws {
        _ = try enqueue(envelope("s1"))
        let entry = try #require(try queue.read(redis, consumer: "crashed", count: 1, blockMilliseconds: 0, pending: false).first)
        Thread.sleep(forTimeInterval: 0.05)
        let stale = try queue.stalePending(redis, minIdleMilliseconds: 20, count: 10)
        #expect(stale.map(\.id) == [entry.id])
        #expect(stale.first?.consumer == "crashed")
        #expect(stale.first?.deliveries == 1)
        let claim = try queue.claim(redis, consumer: "alive", minIdleMilliseconds: 20, cursor: "0-0", count: 10)
        #expect(claim.entries.map(\.id) == [entry.id])
        #expect(claim.nextCursor == "0-0")
        let after = try queue.stalePending(redis, minIdleMilliseconds: 0, count: 10)
        #expect(after.first?.consumer == "alive")
        #expect(after.first?.deliveries == 2)
        let stats = try queue.stats(redis)
        #expect(stats.backlog == 1)
        #expect(stats.pending == 1)
        #expect(stats.consumers.map(\.name).sorted() == ["alive", "crashed"])
    }

    @Test func keepClaimResetsIdleKeepsDeliveriesAndDropsWhatIsNoLongerPending() throws {
        for id in ["k1", "k2", "k3"] { _ = try enqueue(envelope(id)) }
        let entries = try queue.read(redis, consumer: "holder", count: 10, blockMilliseconds: 0, pending: false)
        #expect(entries.count == 3)
        let ids = entries.map(\.id)
        // k2 is settled by someone else meanwhile; k3's entry is deleted but its pending record remains.
        try queue.acknowledge(redis, ids: [ids[1]])
        _ = try redis.send("XDEL", RedisArgument(queue.keys.events), RedisArgument(ids[2]))
        Thread.sleep(forTimeInterval: 0.05)
        for _ in 0..<5 {
            #expect(try queue.keepClaim(redis, consumer: "holder", ids: ids) == [ids[0]])
        }
        let pending = try queue.stalePending(redis, minIdleMilliseconds: 0, count: 10)
        #expect(pending.map(\.id) == [ids[0]])
        #expect(pending.first?.consumer == "holder")
        #expect(pending.first?.deliveries == 1)
        #expect((pending.first?.idleMilliseconds ?? .max) < 50)
        #expect(try queue.keepClaim(redis, consumer: "holder", ids: []) == [])
        // A group Redis lost (restart without persistence) holds nothing any more.
        _ = try redis.send("DEL", RedisArgument(queue.keys.events))
        #expect(try queue.keepClaim(redis, consumer: "holder", ids: ids) == [])
    }

    @Test func statsOfAnEmptyInstallationAreZero() throws {
        let stats = try queue.stats(redis)
        #expect(stats == QueueStats(backlog: 0, pending: 0, retrying: 0, nextRetryDueMilliseconds: nil, dead: 0, consumers: []))
    }
}
