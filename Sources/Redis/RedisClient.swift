import Foundation
import Synchronization

/// An async Redis client: one connection owned by a dedicated thread. Commands that arrive while the thread is busy are
/// written together as one pipeline, so concurrent callers share round trips. After a connection error the failed
/// calls throw `.connection` and the next call reconnects.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let state: Mutex<State>
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Most commands written as one pipeline; bounds the latency one batch adds to the next.
    private let maxBatch: Int

    private enum Job: Sendable {
        case command([RedisArgument], CheckedContinuation<RESPValue, any Error>)
        case script(RedisScript, keys: [RedisArgument], args: [RedisArgument], CheckedContinuation<RESPValue, any Error>)
        case exclusive(@Sendable (RedisConnection?, RedisError?) -> Void)
    }

    private struct State {
        var jobs: [Job] = []
        var isShutDown = false
    }

    public init(configuration: RedisConfiguration, maxBatch: Int = 512) {
        self.configuration = configuration
        self.maxBatch = maxBatch
        self.state = Mutex(State())
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "docket-redis"
        thread.start()
    }

    /// Runs one command; an error reply is thrown as a `.server` error.
    @discardableResult
    public func send(_ arguments: [RedisArgument]) async throws -> RESPValue {
        let reply = try await withCheckedThrowingContinuation { continuation in
            enqueue(.command(arguments, continuation))
        }
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return reply
    }

    /// Runs one command given as literals.
    @discardableResult
    public func send(_ arguments: RedisArgument...) async throws -> RESPValue {
        try await send(arguments)
    }

    /// Runs a script by digest (EVAL on NOSCRIPT), pipelined with other callers' commands; an error reply is thrown.
    @discardableResult
    public func evalScript(_ script: RedisScript, keys: [RedisArgument], args: [RedisArgument]) async throws -> RESPValue {
        let reply = try await withCheckedThrowingContinuation { continuation in
            enqueue(.script(script, keys: keys, args: args, continuation))
        }
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return reply
    }

    /// Runs `body` on the owning thread with the connection to itself (for blocking reads, MULTI, or many commands in a row).
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(.exclusive { connection, error in
                guard let connection else {
                    continuation.resume(throwing: error ?? RedisError(code: .connection, message: "not connected"))
                    return
                }
                continuation.resume(with: Result { try body(connection) })
            })
        }
    }

    /// Stops the thread; queued and later calls fail with `.shutdown`.
    public func shutdown() {
        let wasRunning = state.withLock { state in
            let was = !state.isShutDown
            state.isShutDown = true
            return was
        }
        if wasRunning { wakeUp.signal() }
    }

    private func enqueue(_ job: Job) {
        let accepted = state.withLock { state in
            guard !state.isShutDown else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted {
            wakeUp.signal()
        } else {
            Self.fail([job], RedisError(code: .shutdown, message: "the client was shut down"))
        }
    }

    // MARK: - The owning thread

    private func runLoop() {
        var connection: RedisConnection?
        var nextConnectAttempt = ContinuousClock.now
        while true {
            wakeUp.wait()
            let (jobs, stop) = state.withLock { state in
                let jobs = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                return (jobs, state.isShutDown)
            }
            if stop {
                Self.fail(jobs, RedisError(code: .shutdown, message: "the client was shut down"))
                connection?.close()
                return
            }
            var index = 0
            while index < jobs.count {
                // Connect lazily; after a failed attempt, fail fast for a moment instead of stalling every caller.
                if connection?.isConnected != true {
                    connection = nil
                    if ContinuousClock.now >= nextConnectAttempt {
                        do {
                            connection = try RedisConnection(configuration: configuration)
                        } catch {
                            nextConnectAttempt = ContinuousClock.now + .milliseconds(200)
                            Self.fail(Array(jobs[index...]), error)
                            break
                        }
                    } else {
                        Self.fail(Array(jobs[index...]), RedisError(code: .connection, message: "\(configuration.host):\(configuration.port) unreachable, retrying shortly"))
                        break
                    }
                }
                guard let live = connection else { break }
                if case .exclusive(let body) = jobs[index] {
                    body(live, nil)
                    index += 1
                    continue
                }
                var end = index
                while end < jobs.count, end - index < maxBatch {
                    if case .exclusive = jobs[end] { break }
                    end += 1
                }
                runPipeline(jobs[index..<end], on: live)
                index = end
            }
        }
    }

    private func runPipeline(_ batch: ArraySlice<Job>, on connection: RedisConnection) {
        var replies: [RESPValue] = []
        replies.reserveCapacity(batch.count)
        var failure: RedisError?
        do {
            for job in batch {
                switch job {
                case .command(let arguments, _): try connection.append(arguments)
                case .script(let script, let keys, let args, _): try connection.append(script.evalSHAArguments(keys: keys, args: args))
                case .exclusive: break
                }
            }
            for _ in batch { replies.append(try connection.readReply()) }
        } catch {
            // Whether the unanswered commands ran is unknown; their callers get a connection error and decide.
            failure = error as? RedisError ?? RedisError(code: .connection, message: "\(error)")
            connection.close()
        }
        for (offset, job) in batch.enumerated() {
            guard offset < replies.count else {
                Self.fail([job], failure ?? RedisError(code: .connection, message: "connection lost"))
                continue
            }
            let reply = replies[offset]
            switch job {
            case .command(_, let continuation):
                continuation.resume(returning: reply)
            case .script(let script, let keys, let args, let continuation):
                // The first use of a script on a fresh server loads it; later calls hit the cache.
                if reply.isNoScript {
                    do {
                        try connection.append(script.evalArguments(keys: keys, args: args))
                        continuation.resume(returning: try connection.readReply())
                    } catch {
                        continuation.resume(throwing: error)
                    }
                } else {
                    continuation.resume(returning: reply)
                }
            case .exclusive:
                break
            }
        }
    }

    private static func fail(_ jobs: [Job], _ error: any Error) {
        let redisError = error as? RedisError ?? RedisError(code: .connection, message: "\(error)")
        for job in jobs {
            switch job {
            case .command(_, let continuation): continuation.resume(throwing: redisError)
            case .script(_, _, _, let continuation): continuation.resume(throwing: redisError)
            case .exclusive(let body): body(nil, redisError)
            }
        }
    }
}
