import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import Queue

/// `QueueLink.awaitReplicas` against a real Redis (no replica attached, so `WAIT 1` runs to its timeout and `WAIT 0`
/// answers at once): one `WAIT` out at a time, shared by every listener whose enqueue was answered before its reply,
/// a fresh one for an enqueue written after it, `.failed` when the link drops or refuses.
@Suite struct ReplicaWaiterTests {
    /// Writes `SET key 1` (a write, as an enqueue is) and hands its reply to `replied`, on the link's loop.
    /// Confined to the link's loop (created and called there); Sendable only to cross `submit`.
    final class Setter: QueueRequester, @unchecked Sendable {
        let key: String
        let replied: (Result<QueueReply, QueueLinkFailure>) -> Void
        lazy var caller = QueueCaller(self)

        init(key: String, replied: @escaping (Result<QueueReply, QueueLinkFailure>) -> Void) {
            self.key = key
            self.replied = replied
        }

        func writeCommand(into buffer: inout ByteBuffer) {
            buffer.writeString("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$1\r\n1\r\n")
        }

        func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>) {
            replied(result)
        }
    }

    /// Records its answer and when it came.
    /// Confined to the link's loop like `Setter`.
    final class Listener: ReplicaWaitListener, @unchecked Sendable {
        let promise: EventLoopPromise<ReplicaWaitResult>
        private(set) var answers = 0
        private(set) var answeredAt: ContinuousClock.Instant?

        init(promise: EventLoopPromise<ReplicaWaitResult>) {
            self.promise = promise
        }

        func replicasReplied(_ result: ReplicaWaitResult) {
            answers += 1
            answeredAt = .now
            promise.succeed(result)
        }
    }

    /// A started link to `url` on a one-thread loop, closed after `body`.
    static func withLink<T: Sendable>(
        url: String, waitForReady: Bool = true, _ body: (NIOLoopBound<QueueLink>) async throws -> T
    ) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let configuration = QueueLink.Configuration(
            endpoint: try QueueEndpoint(url: url, cluster: false), connectTimeout: .milliseconds(500),
            commandTimeout: .seconds(10), maxPending: 1024, pingInterval: .seconds(5))
        let (link, status) = try await eventLoop.submit {
            let link = QueueLink(configuration: configuration, eventLoop: eventLoop, logger: Logger(label: "replica-waiter-test"))
            link.start()
            return (NIOLoopBound(link, eventLoop: eventLoop), link.status)
        }.get()
        let result: T
        do {
            if waitForReady {
                try waitUntil(timeout: .seconds(10), poll: .milliseconds(20), what: "the link to be ready") { status.isReady }
            }
            result = try await body(link)
        } catch {
            try? await eventLoop.flatSubmit { link.value.close() }.get()
            try? await group.shutdownGracefully()
            throw error
        }
        try? await eventLoop.flatSubmit { link.value.close() }.get()
        try? await group.shutdownGracefully()
        return result
    }

    static func waitCalls(_ redis: RedisServerProcess) -> Int {
        let stats = redis.cli(["INFO", "commandstats"])
        guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_wait:") }),
              let calls = line.split(separator: "=").dropFirst().first?.split(separator: ",").first
        else { return 0 }
        return Int(calls) ?? 0
    }

    @Test func enqueuesAnsweredTogetherShareOneWait() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let wait = ReplicaWait(replicas: 0, timeoutMilliseconds: 100)
        let results = try await Self.withLink(url: redis.url) { link in
            // Fifty writes in one loop tick: every reply arrives before the first WAIT's, so one WAIT answers all.
            let futures = try await link.eventLoop.submit { () -> [EventLoopFuture<ReplicaWaitResult>] in
                (0..<50).map { index in
                    let listener = Listener(promise: link.eventLoop.makePromise())
                    let setter = Setter(key: "coalesce:\(index)") { _ in
                        link.value.awaitReplicas(wait, listener: listener)
                    }
                    try? link.value.send(setter.caller)
                    return listener.promise.futureResult.map { result in
                        _ = setter  // the setter lives until its listener is answered
                        return result
                    }
                }
            }.get()
            var results: [ReplicaWaitResult] = []
            for future in futures { results.append(try await future.get()) }
            return results
        }
        #expect(results == Array(repeating: .acknowledged(0), count: 50))
        #expect(Self.waitCalls(redis) == 1, "\(Self.waitCalls(redis)) WAITs for 50 enqueues answered together")
    }

    @Test func anEnqueueWrittenAfterAnOutstandingWaitGetsTheNextOne() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        // No replica: each WAIT 1 holds the connection for its whole 300 ms.
        let wait = ReplicaWait(replicas: 1, timeoutMilliseconds: 300)
        let (first, second) = try await Self.withLink(url: redis.url) { link in
            let (a, b) = try await link.eventLoop.submit { () -> (Listener, Listener) in
                let first = Listener(promise: link.eventLoop.makePromise())
                let second = Listener(promise: link.eventLoop.makePromise())
                let later = Setter(key: "order:b") { _ in link.value.awaitReplicas(wait, listener: second) }
                let earlier = Setter(key: "order:a") { _ in
                    link.value.awaitReplicas(wait, listener: first)
                    // Written after the first WAIT: that WAIT does not cover it.
                    try? link.value.send(later.caller)
                }
                try? link.value.send(earlier.caller)
                return (first, second)
            }.get()
            let firstResult = try await a.promise.futureResult.get()
            let secondResult = try await b.promise.futureResult.get()
            let gap = try await link.eventLoop.submit { () -> Duration in
                guard let at = b.answeredAt, let before = a.answeredAt else { return .zero }
                return at - before
            }.get()
            #expect(gap >= .milliseconds(250), "the later enqueue was answered by the WAIT written before it (gap \(gap))")
            return (firstResult, secondResult)
        }
        #expect(first == .acknowledged(0))
        #expect(second == .acknowledged(0))
        #expect(Self.waitCalls(redis) == 2)
    }

    @Test func aLinkLostDuringTheWaitAnswersFailed() async throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let wait = ReplicaWait(replicas: 1, timeoutMilliseconds: 8_000)
        let result = try await Self.withLink(url: redis.url) { link in
            let listener = try await link.eventLoop.submit { () -> Listener in
                let listener = Listener(promise: link.eventLoop.makePromise())
                let setter = Setter(key: "lost") { _ in link.value.awaitReplicas(wait, listener: listener) }
                try? link.value.send(setter.caller)
                return listener
            }.get()
            try waitUntil(timeout: .seconds(5), what: "the WAIT to block") { redis.cli(["CLIENT", "LIST"]).contains("cmd=wait") }
            let started = ContinuousClock.now
            #expect(redis.cli(["CLIENT", "KILL", "TYPE", "normal"]).trimmingCharacters(in: .whitespacesAndNewlines) != "0")
            let result = try await listener.promise.futureResult.get()
            #expect(ContinuousClock.now - started < .seconds(3))
            return result
        }
        #expect(result == .failed)
    }

    @Test func aLinkThatIsDownRefusesTheWait() async throws {
        let result = try await Self.withLink(url: "redis://127.0.0.1:\(freePort())/0", waitForReady: false) { link in
            try await link.eventLoop.submit { () -> EventLoopFuture<ReplicaWaitResult> in
                let listener = Listener(promise: link.eventLoop.makePromise())
                link.value.awaitReplicas(ReplicaWait(replicas: 1, timeoutMilliseconds: 100), listener: listener)
                #expect(listener.answers == 1, "not answered at once")
                return listener.promise.futureResult
            }.get().get()
        }
        #expect(result == .failed)
    }
}
