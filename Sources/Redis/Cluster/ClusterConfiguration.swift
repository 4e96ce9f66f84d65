/// Where a Redis Cluster is: the seed nodes to load the slot map from (any one reachable is enough) and the settings
/// every node's connection shares. Built from `redis://[[user]:password@]host:port[,host:port…][/0]`.
public struct ClusterConfiguration: Sendable, Hashable {
    public var seeds: [ClusterNode]
    /// Credentials and timeouts for every node; its host and port are the first seed's.
    public var template: RedisConfiguration

    public init(seeds: [ClusterNode], template: RedisConfiguration) {
        self.seeds = seeds
        self.template = template
    }

    /// Parses a URL listing one or more seeds separated by commas; the error names what is wrong without echoing a
    /// password. A cluster has database 0 only, so any other is refused.
    public init(url: String) throws(RedisError) {
        guard url.hasPrefix("redis://") else {
            throw RedisError(code: .invalidURL, message: "must start with redis:// (got scheme of \(RedisConfiguration.redacted(url)))")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var userInfo = ""
        if let at = rest.lastIndex(of: "@") {
            userInfo = String(rest[...at])
            rest = rest[rest.index(after: at)...]
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        var seeds: [ClusterNode] = []
        for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else {
                throw RedisError(code: .invalidURL, message: "empty host in the seed list of \(RedisConfiguration.redacted(url))")
            }
            let seed = try RedisConfiguration(url: "redis://\(part)")
            seeds.append(ClusterNode(host: seed.host, port: seed.port))
        }
        template = try RedisConfiguration(url: "redis://\(userInfo)\(seeds.first.map { "[\($0.host)]:\($0.port)" } ?? "")\(path)")
        guard template.database == 0 else {
            throw RedisError(code: .invalidURL, message: "a Redis Cluster has database 0 only, got \(template.database)")
        }
        self.seeds = seeds
    }

    /// The URL with any password replaced by `***`, for logs.
    public var redactedURL: String {
        let auth = template.password == nil ? "" : "\(template.username ?? ""):***@"
        return "redis://\(auth)\(seeds.map(\.description).joined(separator: ","))/0"
    }
}
