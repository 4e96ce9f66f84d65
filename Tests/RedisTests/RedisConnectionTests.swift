import Foundation
import Redis
import TestSupport
import Testing

/// Live tests against the shared Redis that ops/test starts; each test uses keys under its own prefix.
@Suite struct RedisConnectionTests {
    let configuration: RedisConfiguration
    let prefix: String

    init() throws {
        configuration = try RedisConfiguration(url: TestEnvironment.redisURL)
        prefix = TestEnvironment.uniquePrefix("redis")
    }

    func connect() throws -> RedisConnection {
        try RedisConnection(configuration: configuration)
    }

    @Test func everyReplyTypeDecodes() throws {
        let redis = try connect()
        #expect(try redis.send("SET", RedisArgument("\(prefix):k"), "41") == .simpleString("OK"))
        #expect(try redis.send("INCR", RedisArgument("\(prefix):k")) == .integer(42))
        #expect(try redis.send("GET", RedisArgument("\(prefix):k")) == .bulkString(Array("42".utf8)))
        #expect(try redis.send("GET", RedisArgument("\(prefix):missing")) == .null)
        try redis.send("RPUSH", RedisArgument("\(prefix):list"), "a", "b")
        #expect(try redis.send("LRANGE", RedisArgument("\(prefix):list"), "0", "-1")
            == .array([.bulkString(Array("a".utf8)), .bulkString(Array("b".utf8))]))
        #expect(try redis.send("LRANGE", RedisArgument("\(prefix):none"), "0", "-1") == .array([]))
        let replies = try redis.pipeline([["PING"], ["NOSUCHCOMMAND"], ["ECHO", "x"]])
        #expect(replies.count == 3)
        #expect(replies[0] == .simpleString("PONG"))
        guard case .error(let message) = replies[1] else {
            Issue.record("expected an error reply in place, got \(replies[1])")
            return
        }
        #expect(message.hasPrefix("ERR"))
        #expect(replies[2].string == "x")
    }

    @Test func serverErrorIsThrown() throws {
        let redis = try connect()
        try redis.send("SET", RedisArgument("\(prefix):s"), "text")
        let error = #expect(throws: RedisError.self) { try redis.send("INCR", RedisArgument("\(prefix):s")) }
        #expect(error?.code == .server)
        #expect(error?.message.contains("not an integer") == true)
        // The connection is still usable after a server error.
        #expect(try redis.send("PING") == .simpleString("PONG"))
        #expect(redis.isConnected)
    }

    @Test func binaryValuesRoundTrip() throws {
        let redis = try connect()
        let value: [UInt8] = [0, 13, 10, 0x24, 0x2A, 255, 0, 10, 13] + Array("\r\n$3\r\nfoo".utf8)
        try redis.send([RedisArgument("SET"), RedisArgument("\(prefix):bin"), RedisArgument(bytes: value)])
        #expect(try redis.send("GET", RedisArgument("\(prefix):bin")).bytes == value)
        #expect(try redis.send("STRLEN", RedisArgument("\(prefix):bin")) == .integer(value.count))
        // An empty argument is a valid, empty value.
        try redis.send([RedisArgument("SET"), RedisArgument("\(prefix):empty"), RedisArgument(bytes: [])])
        #expect(try redis.send("GET", RedisArgument("\(prefix):empty")) == .bulkString([]))
    }

    @Test func pipelineOfAThousandCommands() throws {
        let redis = try connect()
        let key = RedisArgument("\(prefix):counter")
        let commands = (0..<1000).map { _ in [RedisArgument("INCR"), key] }
        let replies = try redis.pipeline(commands)
        #expect(replies == (1...1000).map { RESPValue.integer($0) })
    }

    @Test func streamRepliesDecode() throws {
        let redis = try connect()
        let stream = RedisArgument("\(prefix):events")
        let id1 = try redis.send("XADD", stream, "*", "webhook_id", "w1", "body", RedisArgument(bytes: [0, 1, 2])).string
        let id2 = try redis.send("XADD", stream, "*", "webhook_id", "w2").string
        try redis.send("XGROUP", "CREATE", stream, "workers", "0")
        let read = try redis.send("XREADGROUP", "GROUP", "workers", "c1", "COUNT", "10", "STREAMS", stream, ">")
        // [[stream, [[id, [field, value, ...]], ...]]]
        let streams = try #require(read.array)
        #expect(streams.count == 1)
        let pair = try #require(streams[0].array)
        #expect(pair[0].string == "\(prefix):events")
        let entries = try #require(pair[1].array)
        #expect(entries.count == 2)
        let first = try #require(entries[0].array)
        #expect(first[0].string == id1)
        #expect(first[1] == .array([.bulkString(Array("webhook_id".utf8)), .bulkString(Array("w1".utf8)),
                                    .bulkString(Array("body".utf8)), .bulkString([0, 1, 2])]))
        // Delete one pending entry; XAUTOCLAIM then reports it among the deleted ids (Redis 7).
        try redis.send("XDEL", stream, RedisArgument(try #require(id2)))
        let claim = try redis.send("XAUTOCLAIM", stream, "workers", "c2", "0", "0-0", "COUNT", "10")
        let parts = try #require(claim.array)
        #expect(parts.count == 3)
        #expect(parts[0].string == "0-0")
        let claimed = try #require(parts[1].array)
        #expect(claimed.count == 1)
        #expect(claimed[0].array?.first?.string == id1)
        #expect(parts[2] == .array([.bulkString(Array(try #require(id2).utf8))]))
        // XREADGROUP with nothing new and a short BLOCK answers nil.
        let none = try redis.send("XREADGROUP", "GROUP", "workers", "c1", "BLOCK", "10", "STREAMS", stream, ">")
        #expect(none.isNull)
    }

    @Test func scriptsLoadThemselvesOnNoScript() throws {
        let redis = try connect()
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(script.sha1.count == 40)
        let key = RedisArgument("\(prefix):script")
        #expect(try redis.evalScript(script, keys: [key], args: ["5"]) == .integer(5))
        // The digest we compute is the one Redis computes.
        #expect(try redis.send("SCRIPT", "LOAD", RedisArgument(script.source)).string == script.sha1)
        #expect(try redis.evalScript(script, keys: [key], args: ["2"]) == .integer(7))
        let failing = RedisScript("return redis.error_reply('DOCKET boom')")
        let error = #expect(throws: RedisError.self) { try redis.evalScript(failing, keys: [], args: []) }
        #expect(error?.message == "DOCKET boom")
    }

    @Test func sha1MatchesKnownVectors() {
        #expect(RedisScript("").sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(RedisScript("abc").sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(RedisScript(String(repeating: "a", count: 1000)).sha1 == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    @Test func unreachableServerIsAConnectionError() throws {
        var config = configuration
        config.port = freePort()
        let error = #expect(throws: RedisError.self) { try RedisConnection(configuration: config) }
        #expect(error?.code == .connection)
        #expect(error?.description.contains("127.0.0.1:\(config.port)") == true)
    }
}
