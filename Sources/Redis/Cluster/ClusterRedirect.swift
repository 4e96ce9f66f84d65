/// What a cluster node's error reply asks the client to do (https://redis.io/docs/reference/cluster-spec/,
/// "Redirection and resharding"); the decision is the same for every kind of connection Docket has.
public enum ClusterRedirect: Sendable, Equatable {
    /// `MOVED <slot> <host:port>`: the slot lives elsewhere for good. Refresh the slot map, then retry there.
    case moved(slot: Int, to: ClusterNode)
    /// `ASK <slot> <host:port>`: the slot is migrating and this key is already on the target. Send `ASKING` then the
    /// command once to the target; the map does not change.
    case ask(slot: Int, to: ClusterNode)
    /// `TRYAGAIN` (a multi-key command during resharding) or `CLUSTERDOWN` (the cluster cannot serve the slot now):
    /// wait a little and retry; after the retries, an infrastructure failure.
    case retryLater

    /// The redirect an error reply's text asks for, or nil when it is an ordinary error.
    public init?(errorReply message: String) {
        let parts = message.split(separator: " ", omittingEmptySubsequences: true)
        guard let kind = parts.first else { return nil }
        switch kind {
        case "MOVED", "ASK":
            guard parts.count >= 3, let slot = Int(parts[1]), (0..<ClusterSlot.count).contains(slot),
                  let node = ClusterNode(parts[2]) else { return nil }
            self = kind == "MOVED" ? .moved(slot: slot, to: node) : .ask(slot: slot, to: node)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .retryLater
        default:
            return nil
        }
    }
}

/// A cluster node's address, as redirects and `CLUSTER SHARDS` give it.
public struct ClusterNode: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, or `[v6]:port`, or `:port` (Redis leaves the host out when it is the one the client used; the
    /// caller fills it in).
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
