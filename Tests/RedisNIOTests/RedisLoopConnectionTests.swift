import Foundation
import NIOCore
import NIOPosix
import Redis
import TestSupport
import Testing

@testable import RedisNIO

/// The event-loop connection against real Redis servers: order, script reloads, outages, timeouts, the pending cap.
@Suite struct RedisLoopConnectionTests {
    @Test func manyCommandsInOneTickAreAnsweredInOrder() async throws {
        let harness = try await LoopConnectionHarness.start(url: TestEnvironment.redisURL)
        defer { Task { await harness.shutdown() } }
        let outcomes = try await harness.send((0..<2000).map { ["ECHO", "message-\($0)"] })
        #expect(outcomes == (0..<2000).map { .reply(.bulkString(Array("message-\($0)".utf8))) })
        #expect(try await harness.pendingCount == 0)
    }

    @Test func errorRepliesComeBackInTheirPlace() async throws {
        let harness = try await LoopConnectionHarness.start(url: TestEnvironment.redisURL)
        defer { Task { await harness.shutdown() } }
        let outcomes = try await harness.send([["PING"], ["NOSUCHCOMMAND"], ["ECHO", "after"]])
        #expect(outcomes[0] == .reply(.simpleString("PONG")))
        guard case .reply(.error(let message)) = outcomes[1] else {
            Issue.record("expected an error reply, got \(outcomes[1])")
            return
        }
        #expect(message.hasPrefix("ERR"))
        #expect(outcomes[2] == .reply(.bulkString(Array("after".utf8))))
    }

    @Test func aFlushedScriptIsReloadedAndTheCommandResent() async throws {
        let marker = TestEnvironment.uniquePrefix("script")
        let script = RedisScript("return '\(marker)'")
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try await LoopConnectionHarness.start(url: redis.url) { $0.scripts = [script] }
        defer { Task { await harness.shutdown() } }
        // Loaded at connect: EVALSHA works at once, written once.
        let first = try await harness.sendCountingWrites(["EVALSHA", script.sha1, "0"])
        #expect(first.0 == .reply(.bulkString(Array(marker.utf8))))
        #expect(first.writes == 1)

        #expect(try await harness.send("SCRIPT", "FLUSH") == .reply(.simpleString("OK")))
        let second = try await harness.sendCountingWrites(["EVALSHA", script.sha1, "0"])
        #expect(second.0 == first.0)
        #expect(second.writes == 2)
    }

    @Test func severalCommandsHitByOneFlushAreReloadedOnceAndResentInOrder() async throws {
        let marker = TestEnvironment.uniquePrefix("scripts")
        let script = RedisScript("return ARGV[1] .. '\(marker)'")
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try await LoopConnectionHarness.start(url: redis.url) { $0.scripts = [script] }
        defer { Task { await harness.shutdown() } }
        #expect(try await harness.send("SCRIPT", "FLUSH") == .reply(.simpleString("OK")))
        // Fifty commands in one write, each answered NOSCRIPT: all resent after one reload, replies still in order.
        let outcomes = try await harness.send((0..<50).map { ["EVALSHA", script.sha1, "0", "n\($0)-"] })
        #expect(outcomes == (0..<50).map { .reply(.bulkString(Array("n\($0)-\(marker)".utf8))) })
        let admin = try RedisConnection(configuration: RedisConfiguration(url: redis.url))
        defer { admin.close() }
        let stats = try admin.send("INFO", "commandstats").string ?? ""
        let loads = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_script|load:") } ?? ""
        // One SCRIPT LOAD at connect, one after the flush.
        #expect(loads.hasPrefix("cmdstat_script|load:calls=2,"), "\(loads)")
    }

    @Test func aRequesterMaySendAgainFromItsReply() async throws {
        let harness = try await LoopConnectionHarness.start(url: TestEnvironment.redisURL)
        defer { Task { await harness.shutdown() } }
        let key = TestEnvironment.uniquePrefix("chain")
        let done = try await harness.eventLoop.submit { () -> EventLoopFuture<[Int]> in
            let promise = harness.eventLoop.makePromise(of: [Int].self)
            let chain = ChainingRequester(key: key, times: 20, connection: harness.connection.value, promise: promise)
            try harness.connection.value.send(chain)
            return promise.futureResult
        }.get().get()
        // Each INCR was sent from the previous one's reply.
        #expect(done == Array(1...20))
    }

    @Test func aKilledServerFailsWhatIsPendingRefusesNewCommandsAndComesBack() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try await LoopConnectionHarness.start(url: redis.url)
        defer { Task { await harness.shutdown() } }
        // Held in the server by a sleep, so they are pending when it dies.
        let pending = try await harness.startSending([["DEBUG", "SLEEP", "1"], ["PING"], ["PING"]])
        try await Task.sleep(for: .milliseconds(200))
        redis.kill9()
        for future in pending {
            #expect(try await future.get() == .failed(.connection))
        }
        try await waitUntil(timeout: .seconds(5), what: "the link to report down") { try await !harness.isReady }
        #expect(try await harness.send("PING") == .refused(.unavailable))

        try redis.restart()
        try await harness.waitUntilReady(timeout: .seconds(5))
        #expect(try await harness.send("PING") == .reply(.simpleString("PONG")))
    }

    @Test func aReplyLaterThanTheTimeoutFailsEverythingPendingAndTheLinkRecovers() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try await LoopConnectionHarness.start(url: redis.url) { $0.redis.commandTimeout = .milliseconds(300) }
        defer { Task { await harness.shutdown() } }
        let started = ContinuousClock.now
        // Timed on the event loop, when the failures are delivered (not when this task gets to run again).
        let futures = try await harness.startSending([["DEBUG", "SLEEP", "1.5"], ["PING"]])
            .map { $0.map { outcome in (outcome, ContinuousClock.now) } }
        var outcomes: [Outcome] = []
        var failedAt = started
        for future in futures {
            let (outcome, at) = try await future.get()
            outcomes.append(outcome)
            failedAt = max(failedAt, at)
        }
        let elapsed = failedAt - started
        #expect(outcomes == [.failed(.connection), .failed(.connection)])
        #expect(elapsed < .milliseconds(1200), "failed after \(elapsed), the server slept 1.5 s")
        try await harness.waitUntilReady(timeout: .seconds(5))
        #expect(try await harness.send("PING") == .reply(.simpleString("PONG")))
    }

    @Test func thePendingCapRefusesAtOnceAndFreesAsRepliesArrive() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try await LoopConnectionHarness.start(url: redis.url) { $0.maxPending = 4 }
        defer { Task { await harness.shutdown() } }
        let futures = try await harness.startSending([["DEBUG", "SLEEP", "0.5"], ["PING"], ["PING"], ["PING"], ["PING"], ["PING"]])
        // Refusals are immediate: the last two never waited for the sleeping server.
        #expect(try await futures[4].get() == .refused(.overloaded))
        #expect(try await futures[5].get() == .refused(.overloaded))
        #expect(try await harness.pendingCount == 4)
        #expect(try await futures[0].get() == .reply(.simpleString("OK")))
        for future in futures[1...3] { #expect(try await future.get() == .reply(.simpleString("PONG"))) }
        #expect(try await harness.send("PING") == .reply(.simpleString("PONG")))
    }

    @Test func closeFailsWhatIsPendingAsShutDownAndRefusesLaterCommands() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let harness = try await LoopConnectionHarness.start(url: redis.url)
        defer { Task { await harness.shutdown() } }
        let pending = try await harness.startSending([["DEBUG", "SLEEP", "0.5"]])
        try await harness.close()
        #expect(try await pending[0].get() == .failed(.shutdown))
        #expect(try await harness.send("PING") == .refused(.unavailable))
        #expect(try await !harness.isReady)
    }

    @Test func anUnreachableServerIsRefusedQuicklyAndNotReady() async throws {
        let harness = try await LoopConnectionHarness.start(url: "redis://127.0.0.1:\(freePort())/0", waitForReady: false)
        defer { Task { await harness.shutdown() } }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await !harness.isReady)
        #expect(try await harness.send("PING") == .refused(.unavailable))
    }

    @Test func aWrongPasswordKeepsTheLinkDown() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let admin = try RedisConnection(configuration: RedisConfiguration(url: redis.url))
        try admin.send("CONFIG", "SET", "requirepass", "right-password")
        admin.close()
        let harness = try await LoopConnectionHarness.start(
            url: "redis://:wrong-password@127.0.0.1:\(redis.port)/0", waitForReady: false)
        defer { Task { await harness.shutdown() } }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await !harness.isReady)

        let good = try await LoopConnectionHarness.start(url: "redis://:right-password@127.0.0.1:\(redis.port)/0")
        defer { Task { await good.shutdown() } }
        #expect(try await good.send("PING") == .reply(.simpleString("PONG")))
    }
}

/// INCRs a key, sending the next INCR from inside each reply, `times` times.
final class ChainingRequester: RedisRequester {
    let key: String
    let times: Int
    let connection: RedisLoopConnection
    let promise: EventLoopPromise<[Int]>
    var seen: [Int] = []

    init(key: String, times: Int, connection: RedisLoopConnection, promise: EventLoopPromise<[Int]>) {
        self.key = key
        self.times = times
        self.connection = connection
        self.promise = promise
    }

    func writeCommand(into buffer: inout ByteBuffer) {
        buffer.writeRESPCommand("INCR", key)
    }

    func redisReplied(_ result: Result<RESPValue, RedisError>) {
        guard case .success(.integer(let value)) = result else {
            promise.fail(RedisError(code: .protocol, message: "unexpected \(result)"))
            return
        }
        seen.append(value)
        if seen.count == times {
            promise.succeed(seen)
            return
        }
        do {
            try connection.send(self)
        } catch {
            promise.fail(error)
        }
    }
}
