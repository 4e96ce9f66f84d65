import Redis
import TestSupport
import Testing

/// The cluster client against the real cluster ops/test starts: routing, `MOVED` after a slot moved for good (the
/// map is refreshed), `ASK` while it migrates (served by the target, the map unchanged). Each test moves one slot of
/// its own and moves it back.
@Suite(.serialized) struct RedisClusterClientTests {
    let seeds: [ClusterNode]

    init() throws {
        seeds = TestEnvironment.redisClusterNodes.map { ClusterNode(host: $0.host, port: $0.port) }
        try #require(!seeds.isEmpty, "DOCKET_TEST_REDIS_CLUSTER_URL names no node")
    }

    func makeClient() -> RedisClusterClient {
        RedisClusterClient(seeds: seeds, template: RedisConfiguration(connectTimeout: .seconds(1), commandTimeout: .seconds(2)))
    }

    static func connection(_ node: ClusterNode) throws -> RedisConnection {
        try RedisConnection(configuration: RedisConfiguration(host: node.host, port: node.port))
    }

    static func nodeID(_ node: ClusterNode) throws -> String {
        let connection = try connection(node)
        defer { connection.close() }
        return try connection.send("CLUSTER", "MYID").string ?? ""
    }

    /// Starts moving `slot` from `source` to `target` and moves `keys` over (the slot is then MIGRATING/IMPORTING).
    static func beginMigration(slot: Int, keys: [String], from source: ClusterNode, to target: ClusterNode) throws {
        let sourceConnection = try connection(source)
        let targetConnection = try connection(target)
        defer { sourceConnection.close(); targetConnection.close() }
        try targetConnection.send("CLUSTER", "SETSLOT", RedisArgument(slot), "IMPORTING", RedisArgument(try nodeID(source)))
        try sourceConnection.send("CLUSTER", "SETSLOT", RedisArgument(slot), "MIGRATING", RedisArgument(try nodeID(target)))
        if !keys.isEmpty {
            try sourceConnection.send(
                ["MIGRATE", RedisArgument(target.host), RedisArgument(target.port), "", "0", "5000", "KEYS"] + keys.map { RedisArgument($0) })
        }
    }

    /// Gives `slot` to `owner` on every primary (the end of a migration).
    static func assign(slot: Int, to owner: ClusterNode, primaries: [ClusterNode]) throws {
        let ownerID = try nodeID(owner)
        for node in [owner] + primaries.filter({ $0 != owner }) {
            let connection = try connection(node)
            defer { connection.close() }
            try connection.send("CLUSTER", "SETSLOT", RedisArgument(slot), "NODE", RedisArgument(ownerID))
        }
    }

    @Test func routesEveryKeyToItsPrimary() async throws {
        let client = makeClient()
        defer { client.shutdown() }
        let prefix = TestEnvironment.uniquePrefix("cluster")
        for n in 0..<200 {
            let key = "\(prefix):\(n)"
            try await client.send(key: Array(key.utf8), ["SET", RedisArgument(key), RedisArgument(n), "EX", "60"])
        }
        for n in stride(from: 0, to: 200, by: 7) {
            let key = "\(prefix):\(n)"
            #expect(try await client.send(key: Array(key.utf8), ["GET", RedisArgument(key)]).string == String(n))
        }
        let map = try await client.slotMap()
        #expect(map.coversAllSlots)
        #expect(map.primaries.count == 3)
    }

    @Test func movedRefreshesTheMapAndAskDoesNot() async throws {
        let client = makeClient()
        defer { client.shutdown() }
        let key = "{\(TestEnvironment.uniquePrefix("cluster-move"))}:k"
        let slot = ClusterSlot.of(key)
        try await client.send(key: Array(key.utf8), ["SET", RedisArgument(key), "before", "EX", "120"])
        let map = try await client.slotMap()
        let source = try #require(map.primary(for: slot))
        let target = try #require(map.primaries.first { $0 != source })
        defer {
            // Whatever happened, the slot goes home with its key.
            try? Self.beginMigration(slot: slot, keys: [key], from: target, to: source)
            try? Self.assign(slot: slot, to: source, primaries: map.primaries)
        }

        // Migrating, the key already on the target: the source answers ASK, the client asks the target once.
        try Self.beginMigration(slot: slot, keys: [key], from: source, to: target)
        #expect(try await client.send(key: Array(key.utf8), ["GET", RedisArgument(key)]).string == "before")
        #expect(try await client.slotMap().primary(for: slot) == source, "ASK leaves the map as it was")
        // A body of several commands (a stats pipeline, a settlement) is let in on the target command by command.
        let replies = try await client.withConnection(slot: slot) { connection in
            let replies = try connection.pipeline([["GET", RedisArgument(key)], ["TTL", RedisArgument(key)], ["EXISTS", RedisArgument(key)]])
            // As the queue's pipelines do: an error reply (a redirect) is thrown, so the client follows it.
            for case .error(let message) in replies { throw RedisError(code: .server, message: message) }
            return replies
        }
        #expect(replies.first?.string == "before")
        #expect((replies.dropFirst().first?.int ?? 0) > 0, "\(replies)")
        #expect(replies.last?.int == 1, "\(replies)")

        // Moved for good: the source answers MOVED, the client reloads the map and follows.
        try Self.assign(slot: slot, to: target, primaries: map.primaries)
        try await client.send(key: Array(key.utf8), ["SET", RedisArgument(key), "after", "EX", "120"])
        #expect(try await client.slotMap().primary(for: slot) == target, "MOVED reloads the map")
        let direct = try Self.connection(target)
        defer { direct.close() }
        #expect(try direct.send("GET", RedisArgument(key)).string == "after")
    }
}
