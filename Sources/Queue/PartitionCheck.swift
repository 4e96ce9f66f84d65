public import Redis

extension Partitioning {
    /// The most partitions any installation can have (`--partitions`), so the most a lowered count can strand.
    public static let maxCount = 1_024

    /// Partitions at or beyond `count` that still hold entries (events, retries or dead letters), with how many: what
    /// lowering `DOCKET_PARTITIONS` would strand, since no worker reads them any more. One pipeline of XLEN/ZCARD over
    /// the keys of partitions `count..<maxCount` (missing keys count 0): milliseconds, whatever the keyspace's size.
    public func strandedPartitions(on connection: RedisConnection) throws -> [Int: Int] {
        let beyond = Array(count..<Self.maxCount)
        guard !beyond.isEmpty else { return [:] }
        var commands: [[RedisArgument]] = []
        commands.reserveCapacity(beyond.count * 3)
        for index in beyond {
            let keys = self.keys(index)
            commands.append(["XLEN", RedisArgument(keys.events)])
            commands.append(["ZCARD", RedisArgument(keys.retry)])
            commands.append(["XLEN", RedisArgument(keys.dead)])
        }
        let replies = try connection.pipeline(commands)
        var stranded: [Int: Int] = [:]
        for (offset, index) in beyond.enumerated() {
            let held = replies[(offset * 3)..<(offset * 3 + 3)].reduce(0) { $0 + ($1.int ?? 0) }
            if held > 0 { stranded[index] = held }
        }
        return stranded
    }
}

extension QueueClient {
    /// `Partitioning.strandedPartitions`, on this client's connection.
    public func strandedPartitions(_ partitioning: Partitioning) async throws -> [Int: Int] {
        try await run { connection, _ in try partitioning.strandedPartitions(on: connection) }
    }
}
