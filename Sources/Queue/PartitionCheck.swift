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
        let replies = try connection.pipeline(beyond.flatMap { Self.holdingCommands(keys($0)) })
        let perPartition = Self.holdingCommands(keys(0)).count
        var stranded: [Int: Int] = [:]
        for (offset, index) in beyond.enumerated() {
            let held = Self.held(replies[(offset * perPartition)..<((offset + 1) * perPartition)])
            if held > 0 { stranded[index] = held }
        }
        return stranded
    }

    /// What a partition holds, asked of Redis: the lengths of its events stream, retry set and dead stream.
    static func holdingCommands(_ keys: QueueKeys) -> [[RedisArgument]] {
        [["XLEN", RedisArgument(keys.events)], ["ZCARD", RedisArgument(keys.retry)], ["XLEN", RedisArgument(keys.dead)]]
    }

    /// The sum of `holdingCommands`' replies (a missing key counts 0).
    static func held(_ replies: some Collection<RESPValue>) -> Int {
        replies.reduce(0) { $0 + ($1.int ?? 0) }
    }
}

extension QueueClient {
    /// `Partitioning.strandedPartitions`, on this client's connection; on a cluster, where every partition has a slot of
    /// its own, one pipeline per partition on the primary serving it.
    public func strandedPartitions(_ partitioning: Partitioning) async throws -> [Int: Int] {
        guard case .cluster(let cluster, _) = route else {
            return try await run { connection, _ in try partitioning.strandedPartitions(on: connection) }
        }
        var stranded: [Int: Int] = [:]
        do {
            for index in partitioning.count..<Partitioning.maxCount {
                let keys = partitioning.keys(index)
                let held = try await cluster.withConnection(slot: ClusterSlot.of(keys.events)) { connection in
                    let replies = try connection.pipeline(Partitioning.holdingCommands(keys))
                    // An error reply (a redirect while a slot moves) is thrown, so the cluster client follows it.
                    for case .error(let message) in replies { throw RedisError(code: .server, message: message) }
                    return Partitioning.held(replies)
                }
                if held > 0 { stranded[index] = held }
            }
        } catch let error as RedisError {
            throw Self.queueError(error, url: redactedURL)
        }
        return stranded
    }
}
