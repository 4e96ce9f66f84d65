import NIOCore
import NIOPosix
import Redis
import TestSupport
import Testing

@testable import RedisNIO

/// Sends one literal command and records what came back, on the connection's event loop.
final class RecordingRequester: RedisRequester {
    let arguments: [String]
    let promise: EventLoopPromise<Result<RESPValue, RedisError>>
    /// How often the connection asked for the command's bytes (2 after a NOSCRIPT resend).
    private(set) var writes = 0

    init(_ arguments: [String], promise: EventLoopPromise<Result<RESPValue, RedisError>>) {
        self.arguments = arguments
        self.promise = promise
    }

    func writeCommand(into buffer: inout ByteBuffer) {
        writes += 1
        buffer.writeRESPArrayHeader(count: arguments.count)
        for argument in arguments { buffer.writeRESPBulkString(argument) }
    }

    func redisReplied(_ result: Result<RESPValue, RedisError>) {
        promise.succeed(result)
    }
}

/// What a test sees of one command: its reply, a failure, or the refusal to send it at all.
enum Outcome: Sendable, Equatable {
    case reply(RESPValue)
    case failed(RedisError.Code)
    case refused(RedisSendRefusal)
}

/// A `RedisLoopConnection` on its own one-thread event loop group, driven from async tests.
struct LoopConnectionHarness: Sendable {
    let group: MultiThreadedEventLoopGroup
    let connection: NIOLoopBound<RedisLoopConnection>
    var eventLoop: any EventLoop { connection.eventLoop }

    /// Starts a connection to `url` and (unless told not to) waits until it is ready.
    static func start(
        url: String, waitForReady: Bool = true,
        configure: @Sendable (inout RedisLoopConnection.Configuration) -> Void = { _ in }
    ) async throws -> LoopConnectionHarness {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        var redis = try RedisConfiguration(url: url)
        redis.connectTimeout = .milliseconds(500)
        redis.commandTimeout = .seconds(2)
        var configuration = RedisLoopConnection.Configuration(redis: redis, reconnectMaximumDelay: .milliseconds(200))
        configure(&configuration)
        let settings = configuration
        let connection = try await eventLoop.submit {
            let connection = RedisLoopConnection(configuration: settings, eventLoop: eventLoop, logger: .init(label: "redis-nio-test"))
            connection.start()
            return NIOLoopBound(connection, eventLoop: eventLoop)
        }.get()
        let harness = LoopConnectionHarness(group: group, connection: connection)
        if waitForReady { try await harness.waitUntilReady() }
        return harness
    }

    var isReady: Bool {
        get async throws { try await eventLoop.submit { connection.value.status.isReady }.get() }
    }

    func waitUntilReady(timeout: Duration = .seconds(10)) async throws {
        try await waitUntil(timeout: timeout, poll: .milliseconds(20), what: "the Redis link to be ready") {
            try await isReady
        }
    }

    /// Sends every command in the same loop tick (so they share one write) and returns their outcomes in order.
    func send(_ commands: [[String]]) async throws -> [Outcome] {
        let futures = try await startSending(commands)
        var outcomes: [Outcome] = []
        for future in futures { outcomes.append(try await future.get()) }
        return outcomes
    }

    func send(_ command: String...) async throws -> Outcome {
        try await send([command])[0]
    }

    /// Sends in one tick; the futures complete as replies arrive.
    func startSending(_ commands: [[String]]) async throws -> [EventLoopFuture<Outcome>] {
        try await eventLoop.submit {
            commands.map { command -> EventLoopFuture<Outcome> in
                let promise = eventLoop.makePromise(of: Result<RESPValue, RedisError>.self)
                let requester = RecordingRequester(command, promise: promise)
                do throws(RedisSendRefusal) {
                    try connection.value.send(requester)
                } catch {
                    // Refused: the requester is never called back, so its promise is settled here.
                    promise.succeed(.failure(RedisError(code: .connection, message: "refused")))
                    return eventLoop.makeSucceededFuture(.refused(error))
                }
                return promise.futureResult.map { result in
                    switch result {
                    case .success(let value): .reply(value)
                    case .failure(let error): .failed(error.code)
                    }
                }
            }
        }.get()
    }

    /// Sends one command and also reports how many times its bytes were written.
    func sendCountingWrites(_ command: [String]) async throws -> (Outcome, writes: Int) {
        let (future, requester) = try await eventLoop.submit {
            let promise = eventLoop.makePromise(of: Result<RESPValue, RedisError>.self)
            let requester = RecordingRequester(command, promise: promise)
            do {
                try connection.value.send(requester)
            } catch {
                promise.succeed(.failure(RedisError(code: .connection, message: "refused")))
                throw error
            }
            return (promise.futureResult, NIOLoopBound(requester, eventLoop: eventLoop))
        }.get()
        let result = try await future.get()
        let writes = try await eventLoop.submit { requester.value.writes }.get()
        switch result {
        case .success(let value): return (.reply(value), writes)
        case .failure(let error): return (.failed(error.code), writes)
        }
    }

    var pendingCount: Int {
        get async throws { try await eventLoop.submit { connection.value.pendingCount }.get() }
    }

    func close() async throws {
        try await eventLoop.flatSubmit { connection.value.close() }.get()
    }

    func shutdown() async {
        try? await close()
        try? await group.shutdownGracefully()
    }
}
