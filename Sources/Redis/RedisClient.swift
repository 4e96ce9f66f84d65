import Confinement

/// An async Redis client: one connection owned by a `ConfinedThread` (the pattern every C client here follows: its
/// shutdown and cancellation rules are that type's). Commands that arrive while the thread is busy are written
/// together as one pipeline, so concurrent callers share round trips. After a connection error the failed calls throw
/// `.connection` and the next call reconnects.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let thread = ConfinedThread<Job>(name: "docket-redis")
    /// Most commands written as one pipeline; bounds the latency one batch adds to the next.
    private let maxBatch: Int

    private enum Job: ConfinedJob {
        case command([RedisArgument], CheckedContinuation<RESPValue, any Error>)
        case script(RedisScript, keys: [RedisArgument], args: [RedisArgument], CheckedContinuation<RESPValue, any Error>)
        case exclusive(@Sendable (RedisConnection?, (any Error)?) -> Void)

        func refuse(_ reason: JobRefusal) {
            fail(reason == .cancelled ? CancellationError() : RedisClient.shutdownError)
        }

        func fail(_ error: any Error) {
            switch self {
            case .command(_, let continuation): continuation.resume(throwing: error)
            case .script(_, _, _, let continuation): continuation.resume(throwing: error)
            case .exclusive(let body): body(nil, error)
            }
        }
    }

    static let shutdownError = RedisError(code: .shutdown, message: "the client was shut down")

    public init(configuration: RedisConfiguration, maxBatch: Int = 512) {
        self.configuration = configuration
        self.maxBatch = maxBatch
        thread.start { [configuration, maxBatch] thread in
            Self.runLoop(thread, configuration: configuration, maxBatch: maxBatch)
        }
    }

    /// Runs one command; an error reply is thrown as a `.server` error. A task cancelled before the command is written
    /// gets `CancellationError`; once written, the command runs to its reply.
    @discardableResult
    public func send(_ arguments: [RedisArgument]) async throws -> RESPValue {
        let reply = try await thread.perform { Job.command(arguments, $0) }
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
        let reply = try await thread.perform { Job.script(script, keys: keys, args: args, $0) }
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return reply
    }

    /// Runs `body` on the owning thread with the connection to itself (for blocking reads, MULTI, or many commands in a row).
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await thread.perform { (continuation: CheckedContinuation<T, any Error>) in
            Job.exclusive { connection, error in
                guard let connection else {
                    continuation.resume(throwing: error ?? RedisError(code: .connection, message: "not connected"))
                    return
                }
                continuation.resume(with: Result { try body(connection) })
            }
        }
    }

    /// Refuses queued and later calls (`.shutdown`), lets the thread finish the batch in hand, closes the connection,
    /// and returns when the thread has exited.
    public func shutdown() {
        thread.shutdown()
    }

    // MARK: - The owning thread

    private static func runLoop(_ thread: ConfinedThread<Job>, configuration: RedisConfiguration, maxBatch: Int) {
        var connection: RedisConnection?
        var nextConnectAttempt = ContinuousClock.now
        while let batch = thread.next() {
            let jobs = batch.map(\.job)
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
                            Self.fail(jobs[index...], error)
                            break
                        }
                    } else {
                        Self.fail(jobs[index...], RedisError(code: .connection, message: "\(configuration.host):\(configuration.port) unreachable, retrying shortly"))
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
        connection?.close()
    }

    private static func runPipeline(_ batch: ArraySlice<Job>, on connection: RedisConnection) {
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

    private static func fail(_ jobs: some Sequence<Job>, _ error: any Error) {
        let redisError = error as? RedisError ?? RedisError(code: .connection, message: "\(error)")
        for job in jobs { job.fail(redisError) }
    }
}
