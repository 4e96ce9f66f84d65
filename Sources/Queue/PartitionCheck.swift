public import Redis

extension Partitioning {
    /// Partitions beyond `count` that still hold entries (events, retries or dead letters), with how many: what
    /// lowering `DOCKET_PARTITIONS` would strand, since no worker reads them any more. Found with SCAN over the
    /// `{PREFIX-i}:events|retry|dead` keys, so it costs one pass over the keyspace: for a process's start, not a loop.
    public func strandedPartitions(on connection: RedisConnection) throws -> [Int: Int] {
        var stranded: [Int: Int] = [:]
        var cursor = "0"
        let pattern = Self.globEscaped("{\(prefix)-") + "*}:*"
        repeat {
            let reply = try connection.send("SCAN", RedisArgument(cursor), "MATCH", RedisArgument(pattern), "COUNT", "1000")
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                throw RedisError.unexpected("a SCAN reply", reply)
            }
            cursor = next
            for key in parts[1].array?.compactMap(\.string) ?? [] {
                guard let (index, kind) = parse(key), index >= count else { continue }
                let size: Int?
                switch kind {
                case "events", "dead": size = try connection.send("XLEN", RedisArgument(key)).int
                case "retry": size = try connection.send("ZCARD", RedisArgument(key)).int
                default: size = nil
                }
                if let size, size > 0 { stranded[index, default: 0] += size }
            }
        } while cursor != "0"
        return stranded
    }

    /// `{PREFIX-i}:kind` → (i, kind), for this prefix only.
    func parse(_ key: String) -> (Int, String)? {
        let head = "{\(prefix)-"
        guard key.hasPrefix(head), let close = key.firstIndex(of: "}") else { return nil }
        let number = key[key.index(key.startIndex, offsetBy: head.count)..<close]
        let rest = key[key.index(after: close)...]
        guard let index = Int(number), index > 0, rest.hasPrefix(":") else { return nil }
        return (index, String(rest.dropFirst()))
    }

    /// `text` with Redis's glob characters escaped.
    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

extension QueueClient {
    /// `Partitioning.strandedPartitions`, on this client's connection.
    public func strandedPartitions(_ partitioning: Partitioning) async throws -> [Int: Int] {
        try await run { connection, _ in try partitioning.strandedPartitions(on: connection) }
    }
}
