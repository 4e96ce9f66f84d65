import Redis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func parsesFullURL() throws {
        let c = try RedisConfiguration(url: "redis://:s%40cret@redis.internal:6380/3")
        #expect(c.host == "redis.internal")
        #expect(c.port == 6380)
        #expect(c.password == "s@cret")
        #expect(c.username == nil)
        #expect(c.database == 3)
        #expect(!c.redactedURL.contains("cret"))
    }

    @Test func parsesUserAndDefaults() throws {
        let c = try RedisConfiguration(url: "redis://app:pw@10.0.0.1")
        #expect(c.username == "app")
        #expect(c.password == "pw")
        #expect(c.port == 6379)
        #expect(c.database == 0)
        let v6 = try RedisConfiguration(url: "redis://[::1]:7000/0")
        #expect(v6.host == "::1")
        #expect(v6.port == 7000)
    }

    @Test func parsesClusterSeedLists() throws {
        let c = try ClusterConfiguration(url: "redis://app:s%40cret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,redis.internal")
        #expect(c.seeds == [
            ClusterNode(host: "10.0.0.1", port: 7000), ClusterNode(host: "10.0.0.2", port: 7001),
            ClusterNode(host: "::1", port: 7002), ClusterNode(host: "redis.internal", port: 6379),
        ])
        #expect(c.template.username == "app")
        #expect(c.template.password == "s@cret")
        #expect(c.redactedURL == "redis://app:***@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,redis.internal:6379/0")
        let one = try ClusterConfiguration(url: "redis://127.0.0.1:7000/0")
        #expect(one.seeds == [ClusterNode(host: "127.0.0.1", port: 7000)])
        #expect(one.template.password == nil)
    }

    @Test(arguments: ["redis://h1:7000,,h2:7001", "redis://h1:7000,h2:0", "redis://h1:7000,h2:7001/2", "http://h1:7000", "redis://:pw@"])
    func rejectsBadClusterURLs(url: String) {
        let error = #expect(throws: RedisError.self) { try ClusterConfiguration(url: url) }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.contains("pw") != true)
    }

    /// Several hosts without DOCKET_REDIS_CLUSTER=1 is refused, saying why, rather than read as one odd host name.
    @Test func aSeedListIsNotOneServer() {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://h1:7000,h2:7001") }
        #expect(error?.message.contains("DOCKET_REDIS_CLUSTER=1") == true)
    }

    @Test(arguments: ["http://127.0.0.1:6379", "redis://", "redis://host:0", "redis://host:99999", "redis://host:6379/x", "redis://host:abc"])
    func rejectsBadURLs(url: String) {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        #expect(error?.code == .invalidURL)
    }

    @Test func errorsDoNotEchoPasswords() {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://:hunter2@host:notaport") }
        #expect(error?.description.contains("hunter2") == false)
    }
}
