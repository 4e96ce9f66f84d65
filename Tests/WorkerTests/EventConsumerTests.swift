import Logging
import Model
import Queue
import Synchronization
import Testing
import TestSupport
@testable import Worker

/// The consume loop's branches with an in-memory stream and processor (the real loop runs against Redis and Postgres
/// in `WorkerProcessTests`, `WorkerOutageTests` and the system tests).
@Suite struct EventConsumerTests {
    struct Outage: Error {}

    /// A consumer group in memory: new entries, pending ones with their delivery counts, the dead ones.
    final class MemoryQueue: ConsumerQueue {
        struct State {
            var new: [StreamEntry] = []
            var pending: [String: (entry: StreamEntry, deliveries: Int, consumer: String)] = [:]
            var reads: [(pending: Bool, ids: [String])] = []
            var keepClaims = 0
            var buried: [String] = []
            /// Pretend every pending entry is idle past the visibility timeout with this many deliveries.
            var staleDeliveries: Int?
        }

        let state = Mutex(State())

        init(_ entries: [StreamEntry]) {
            state.withLock { $0.new = entries }
        }

        func read(consumer: String, count: Int, blockMilliseconds: Int, pending: Bool) async throws -> [StreamEntry] {
            let batch = state.withLock { state -> [StreamEntry] in
                var batch: [StreamEntry]
                if pending {
                    batch = state.pending.values.filter { $0.consumer == consumer }.map(\.entry).sorted { $0.id < $1.id }
                } else {
                    batch = Array(state.new.prefix(count))
                    state.new.removeFirst(batch.count)
                }
                batch = Array(batch.prefix(count))
                for entry in batch { state.pending[entry.id, default: (entry, 0, consumer)].deliveries += 1 }
                state.reads.append((pending, batch.map(\.id)))
                return batch
            }
            if batch.isEmpty && !pending { try await Task.sleep(for: .milliseconds(min(blockMilliseconds, 10))) }
            return batch
        }

        func keepClaim(consumer: String, ids: [String]) async throws -> Set<String> {
            state.withLock { state in
                state.keepClaims += 1
                return Set(ids.filter { state.pending[$0] != nil })
            }
        }

        func stalePending(minIdleMilliseconds: Int, count: Int) async throws -> [PendingEntry] {
            state.withLock { state in
                guard let deliveries = state.staleDeliveries else { return [] }
                return state.pending.keys.sorted().compactMap { id in
                    state.pending[id].map {
                        PendingEntry(id: id, consumer: $0.consumer, idleMilliseconds: minIdleMilliseconds, deliveries: deliveries)
                    }
                }
            }
        }

        func buryPoison(_ entry: PendingEntry, reason: String, consumer: String, failedAtMilliseconds: Int) async throws -> PoisonBurial {
            state.withLock { state in
                guard state.pending.removeValue(forKey: entry.id) != nil else { return .settledElsewhere }
                state.buried.append(entry.id)
                return .buried(webhookId: entry.id, trimmed: 0)
            }
        }

        func claim(consumer: String, minIdleMilliseconds: Int, cursor: String, count: Int) async throws -> ClaimResult {
            ClaimResult(nextCursor: "0-0", entries: [], deletedIds: [])
        }

        func acknowledge(_ ids: [String]) async throws {
            state.withLock { state in for id in ids { state.pending[id] = nil } }
        }

        var pendingIds: Set<String> { state.withLock { Set($0.pending.keys) } }
    }

    /// Settles every batch in the memory queue, after failing the first `failures` attempts as an outage would.
    final class FlakyProcessor: BatchProcessing {
        let queue: MemoryQueue
        let failures: Mutex<Int>
        let batches = Mutex<[[String]]>([])
        /// Acknowledged by "another worker" when an attempt fails.
        let settledElsewhereOnFailure: [String]

        init(queue: MemoryQueue, failures: Int, settledElsewhereOnFailure: [String] = []) {
            self.queue = queue
            self.failures = Mutex(failures)
            self.settledElsewhereOnFailure = settledElsewhereOnFailure
        }

        func process(_ entries: [StreamEntry]) async throws -> BatchProcessor.Summary {
            batches.withLock { $0.append(entries.map(\.id)) }
            let fail = failures.withLock { left in
                guard left > 0 else { return false }
                left -= 1
                return true
            }
            if fail {
                try await queue.acknowledge(settledElsewhereOnFailure)
                throw Outage()
            }
            try await queue.acknowledge(entries.map(\.id))
            return BatchProcessor.Summary(acknowledged: entries.count)
        }

        func nowMilliseconds() -> Int { 1_700_000_000_000 }
        func reportTrimmed(_ count: Int) {}
    }

    func entries(_ count: Int) -> [StreamEntry] {
        (0..<count).map { index in
            StreamEntry(id: "1-\(index)", fields: EventEnvelope(
                webhookId: "wh-\(index)", timestamp: 1, receivedAt: 1, body: Array("{}".utf8)).fields)
        }
    }

    func consumer(_ queue: MemoryQueue, _ processor: FlakyProcessor, visibilityTimeoutMilliseconds: Int = 60_000) -> EventConsumer {
        var configuration = WorkerConfiguration(consumer: "c1")
        configuration.batchSize = 10
        configuration.blockMilliseconds = 10
        configuration.visibilityTimeoutMilliseconds = visibilityTimeoutMilliseconds
        return EventConsumer(configuration: configuration, queue: queue, processor: processor, metrics: WorkerMetrics(),
                             logger: Logger(label: "test"))
    }

    /// An outage while settling keeps the batch in hand: after the backoff it is settled as it is, after re-asserting
    /// the claim, never read again (each read would raise its delivery count and make good events look like poison).
    @Test func aBatchThatFailedIsRetriedFromHandNotReadAgain() async throws {
        let queue = MemoryQueue(entries(5))
        let processor = FlakyProcessor(queue: queue, failures: 2)
        let loop = consumer(queue, processor)
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        try await waitUntil(timeout: .seconds(10), what: "the batch settled") { () async throws -> Bool in
            queue.pendingIds.isEmpty && processor.batches.withLock { $0.count } == 3
        }
        let ids = entries(5).map(\.id)
        #expect(processor.batches.withLock { $0 } == [ids, ids, ids])
        let reads = queue.state.withLock { $0.reads }
        #expect(reads.filter { $0.ids.contains("1-0") }.count == 1, "read once, then retried from hand: \(reads.map(\.ids))")
        #expect(queue.state.withLock { $0.keepClaims } == 2)
        try await waitUntil(timeout: .seconds(5), what: "healthy again") { () async throws -> Bool in loop.isHealthy }
    }

    /// Entries of the batch in hand that another worker settled meanwhile are dropped from the retry.
    @Test func entriesSettledElsewhereAreDroppedFromTheRetry() async throws {
        let queue = MemoryQueue(entries(4))
        let processor = FlakyProcessor(queue: queue, failures: 1, settledElsewhereOnFailure: ["1-1", "1-2"])
        let loop = consumer(queue, processor)
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        try await waitUntil(timeout: .seconds(10), what: "the rest settled") { () async throws -> Bool in
            processor.batches.withLock { $0.count } == 2
        }
        #expect(processor.batches.withLock { $0.last } == ["1-0", "1-3"])
        #expect(queue.pendingIds.isEmpty)
    }

    /// Reclaim dead-letters entries a vanished consumer left pending after too many deliveries, without processing them.
    @Test func reclaimBuriesPoisonLeftByAnotherConsumer() async throws {
        let queue = MemoryQueue([])
        queue.state.withLock { state in
            for entry in entries(3) { state.pending[entry.id] = (entry, 6, "vanished") }
            state.staleDeliveries = 6
        }
        let processor = FlakyProcessor(queue: queue, failures: 0)
        let loop = consumer(queue, processor, visibilityTimeoutMilliseconds: 100)
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        try await waitUntil(timeout: .seconds(10), what: "the poison buried") { () async throws -> Bool in
            queue.state.withLock { $0.buried.count } == 3
        }
        #expect(queue.state.withLock { $0.buried }.sorted() == ["1-0", "1-1", "1-2"])
        #expect(processor.batches.withLock { $0 }.isEmpty, "poison is dead-lettered, not applied")
        #expect(loop.isHealthy)
    }
}
