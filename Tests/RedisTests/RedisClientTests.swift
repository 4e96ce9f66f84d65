import Foundation
import Redis
import TestSupport
import Testing

@Suite struct RedisClientTests {
    @Test func concurrentCommandsShareTheConnection() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        defer { client.shutdown() }
        let key = RedisArgument(TestEnvironment.uniquePrefix("client") + ":n")
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await client.send("INCR", key).int ?? -1 }
            }
            var all: [Int] = []
            for try await value in group { all.append(value) }
            return all
        }
        // Every INCR ran exactly once and each caller got its own reply.
        #expect(results.sorted() == Array(1...1000))
    }

    @Test func serverErrorsAreThrownPerCaller() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        defer { client.shutdown() }
        // Both go out in one pipeline; only the bad one fails.
        async let good: RESPValue = client.send("PING")
        let error = await #expect(throws: RedisError.self) { try await client.send("NOSUCHCOMMAND") }
        #expect(error?.code == .server)
        #expect(try await good == .simpleString("PONG"))
    }

    @Test func scriptsAndExclusiveAccess() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        defer { client.shutdown() }
        let key = RedisArgument(TestEnvironment.uniquePrefix("client") + ":s")
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) * 10")
        #expect(try await client.evalScript(script, keys: [key], args: ["3"]) == .integer(30))
        let inTransaction = try await client.withConnection { connection in
            try connection.pipeline([["MULTI"], ["INCR", key], ["INCR", key], ["EXEC"]])
        }
        #expect(inTransaction.last == .array([.integer(4), .integer(5)]))
    }

    @Test func recoversAfterRedisRestart() async throws {
        let server = try RedisServerProcess.start()
        defer { server.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
        defer { client.shutdown() }
        #expect(try await client.send("SET", "k", "before") == .simpleString("OK"))
        try server.restart()
        // The first command after the restart may fail on the dead socket; the client reconnects by itself.
        let deadline = ContinuousClock.now + .seconds(5)
        var reply: RESPValue?
        while reply == nil, ContinuousClock.now < deadline {
            do {
                reply = try await client.send("PING")
            } catch let error as RedisError {
                #expect(error.isConnectionError, "unexpected \(error)")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(reply == .simpleString("PONG"))
    }

    @Test func unreachableServerFailsFast() async throws {
        var config = RedisConfiguration(port: freePort())
        config.connectTimeout = .milliseconds(500)
        let client = RedisClient(configuration: config)
        defer { client.shutdown() }
        let start = ContinuousClock.now
        for _ in 0..<5 {
            let error = await #expect(throws: RedisError.self) { try await client.send("PING") }
            #expect(error?.isConnectionError == true)
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func shutdownFailsLaterCalls() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        client.shutdown()
        let error = await #expect(throws: RedisError.self) { try await client.send("PING") }
        #expect(error?.code == .shutdown)
    }
}
