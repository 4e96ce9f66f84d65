import Redis
import TestSupport
import Testing

/// Hash slots, redirects and the slot map, checked against Redis's own answers (the cluster ops/test starts).
@Suite struct ClusterSlotTests {
    /// Keys whose slots Redis 7 computed (`CLUSTER KEYSLOT`): hash tags, empty tags, nested and unclosed braces.
    static let vectors: [(key: String, slot: Int)] = [
        ("foo", 12182), ("{user1000}.following", 3443), ("foo{}{bar}", 8363), ("foo{{bar}}zap", 4015),
        ("foo{bar}{zap}", 5061), ("{}", 15257), ("", 0), ("a{b", 13340),
    ]

    @Test func fixedVectors() {
        for (key, slot) in Self.vectors {
            #expect(ClusterSlot.of(key) == slot, "\(key)")
        }
        // The hash tag rule on its own.
        #expect(String(decoding: ClusterSlot.hashTag(of: Array("{user1000}.following".utf8)), as: UTF8.self) == "user1000")
        #expect(String(decoding: ClusterSlot.hashTag(of: Array("foo{}{bar}".utf8)), as: UTF8.self) == "foo{}{bar}")
        #expect(String(decoding: ClusterSlot.hashTag(of: Array("foo{{bar}}zap".utf8)), as: UTF8.self) == "{bar")
        // Docket's own keys: one slot per prefix.
        #expect(ClusterSlot.of("{docket}:events") == ClusterSlot.of("{docket}:seen:msg_1"))
    }

    @Test func everySlotMatchesClusterKeyslotOnTheRealCluster() throws {
        let node = try #require(TestEnvironment.redisClusterNodes.first, "DOCKET_TEST_REDIS_CLUSTER_URL names no node")
        let connection = try RedisConnection(configuration: RedisConfiguration(host: node.host, port: node.port))
        defer { connection.close() }
        var random = SplitMix64(seed: 0xD0C_E7)
        var keys: [[UInt8]] = Self.vectors.map { Array($0.key.utf8) }
        // Random binary keys, braces made common so that tags, empty tags and unclosed ones all occur.
        let alphabet: [UInt8] = Array("{}{}ab".utf8) + [0, 0xff, 0x7b, 0x7d]
        for _ in 0..<2_000 {
            let length = Int(random.next() % 12)
            keys.append((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        for key in keys {
            let reply = try connection.send("CLUSTER", "KEYSLOT", RedisArgument(bytes: key))
            #expect(ClusterSlot.of(key) == reply.int, "\(key)")
        }
    }

    @Test func redirectsAreRead() {
        #expect(ClusterRedirect(errorReply: "MOVED 3999 127.0.0.1:6381") == .moved(slot: 3999, to: ClusterNode(host: "127.0.0.1", port: 6381)))
        #expect(ClusterRedirect(errorReply: "ASK 3999 [::1]:6381") == .ask(slot: 3999, to: ClusterNode(host: "::1", port: 6381)))
        #expect(ClusterRedirect(errorReply: "TRYAGAIN Multiple keys request during rehashing of slot") == .retryLater)
        #expect(ClusterRedirect(errorReply: "CLUSTERDOWN The cluster is down") == .retryLater)
        #expect(ClusterRedirect(errorReply: "ERR unknown command") == nil)
        #expect(ClusterRedirect(errorReply: "MOVED 99999 127.0.0.1:6381") == nil)
        #expect(ClusterRedirect(errorReply: "MOVED 12 nowhere") == nil)
        #expect(ClusterNode("[::1]:7000")?.description == "[::1]:7000")
    }

    @Test func theSlotMapFromClusterShardsRoutesEveryKeyToItsPrimary() throws {
        let nodes = TestEnvironment.redisClusterNodes
        let seed = try #require(nodes.first, "DOCKET_TEST_REDIS_CLUSTER_URL names no node")
        let connection = try RedisConnection(configuration: RedisConfiguration(host: seed.host, port: seed.port))
        defer { connection.close() }
        let map = try ClusterSlotMap(shardsReply: try connection.send("CLUSTER", "SHARDS"), fallbackHost: seed.host)
        #expect(map.coversAllSlots)
        #expect(map.primaries.count == nodes.count / 2, "three primaries, each with a replica")
        // Every primary the map names answers for its slots without a redirect; any other node redirects there.
        for key in ["foo", "{docket}:events", "{docket-3}:dead", "bar", "{user1000}.following"] {
            let primary = try #require(map.primary(for: ClusterSlot.of(key)))
            let owner = try RedisConnection(configuration: RedisConfiguration(host: primary.host, port: primary.port))
            defer { owner.close() }
            #expect(try owner.send("EXISTS", RedisArgument(key)).int != nil, "\(key) on \(primary)")
            for other in map.primaries where other != primary {
                let stranger = try RedisConnection(configuration: RedisConfiguration(host: other.host, port: other.port))
                defer { stranger.close() }
                do {
                    let reply = try stranger.send("EXISTS", RedisArgument(key))
                    Issue.record("\(other) answered \(reply) for \(key), not a redirect")
                } catch let error as RedisError {
                    #expect(ClusterRedirect(errorReply: error.message) == .moved(slot: ClusterSlot.of(key), to: primary))
                }
            }
        }
    }
}
