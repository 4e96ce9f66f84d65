/// Which primary serves each hash slot, as `CLUSTER SHARDS` reports it; what a cluster-aware connection routes by.
public struct ClusterSlotMap: Sendable, Equatable {
    /// Slot ranges (inclusive) with their primary, sorted by start.
    public private(set) var ranges: [(range: ClosedRange<Int>, primary: ClusterNode)]

    public init(ranges: [(range: ClosedRange<Int>, primary: ClusterNode)]) {
        self.ranges = ranges.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    public static func == (lhs: ClusterSlotMap, rhs: ClusterSlotMap) -> Bool {
        lhs.ranges.elementsEqual(rhs.ranges) { $0.range == $1.range && $0.primary == $1.primary }
    }

    /// The primary serving `slot`, nil when no shard claims it (the cluster is not fully covered).
    public func primary(for slot: Int) -> ClusterNode? {
        var low = 0
        var high = ranges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let range = ranges[middle].range
            if slot < range.lowerBound {
                high = middle - 1
            } else if slot > range.upperBound {
                low = middle + 1
            } else {
                return ranges[middle].primary
            }
        }
        return nil
    }

    /// Every primary, once each.
    public var primaries: [ClusterNode] {
        var seen = Set<ClusterNode>()
        return ranges.compactMap { seen.insert($0.primary).inserted ? $0.primary : nil }
    }

    /// True when every slot has a primary.
    public var coversAllSlots: Bool {
        var next = 0
        for (range, _) in ranges {
            guard range.lowerBound <= next else { return false }
            next = max(next, range.upperBound + 1)
        }
        return next >= ClusterSlot.count
    }

    /// Reads a `CLUSTER SHARDS` reply (Redis 7): per shard, `slots` (a flat list of range bounds) and `nodes` (maps
    /// with `ip`/`endpoint`, `port`, `role`, `health`). A shard's primary is its node with role `master`; a node whose
    /// endpoint is `?` or empty is addressed by `fallbackHost` (the host the client reached). Shards without a healthy
    /// primary are left out.
    public init(shardsReply reply: RESPValue, fallbackHost: String) throws(RedisError) {
        guard let shards = reply.array else { throw RedisError.unexpected("a CLUSTER SHARDS list", reply) }
        var ranges: [(range: ClosedRange<Int>, primary: ClusterNode)] = []
        for shard in shards {
            let fields = Self.map(shard)
            guard let slots = fields["slots"]?.array, let nodes = fields["nodes"]?.array else {
                throw RedisError.unexpected("a shard with slots and nodes", shard)
            }
            var primary: ClusterNode?
            for node in nodes {
                let info = Self.map(node)
                // Redis 7 says "fail"; its documentation (and Valkey) "failed".
                guard info["role"]?.string == "master", !["fail", "failed"].contains(info["health"]?.string ?? "") else { continue }
                guard let port = info["port"]?.int ?? info["tls-port"]?.int else { continue }
                var host = info["endpoint"]?.string ?? info["ip"]?.string ?? ""
                if host.isEmpty || host == "?" { host = info["ip"]?.string ?? fallbackHost }
                if host.isEmpty || host == "?" { host = fallbackHost }
                primary = ClusterNode(host: host, port: port)
            }
            guard let primary else { continue }
            var index = 0
            while index + 1 < slots.count {
                guard let start = slots[index].int, let end = slots[index + 1].int, start <= end else {
                    throw RedisError.unexpected("slot range bounds", shard)
                }
                ranges.append((start...end, primary))
                index += 2
            }
        }
        self.init(ranges: ranges)
    }

    /// A RESP2 flat name/value list or a RESP3 map as a dictionary.
    private static func map(_ value: RESPValue) -> [String: RESPValue] {
        guard let flat = value.array else { return [:] }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string { fields[name] = flat[index + 1] }
            index += 2
        }
        return fields
    }
}
