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
