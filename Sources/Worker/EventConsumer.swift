import Durations
import Logging
import Model
import Queue
import Runtime
import ServiceLifecycle
import Synchronization

/// The consume loop (a `Service`): read this consumer's own pending entries, then new ones with BLOCK; apply and settle
/// each batch; reclaim entries of dead consumers every few seconds. On an infrastructure failure it backs off and retries
/// the batch in hand without reading it again (a re-read would raise its delivery count), then carries on from the own
/// pending entries. Graceful shutdown stops reading and finishes the batch in hand.
final class EventConsumer: Service, Sendable {
    private let configuration: WorkerConfiguration
    private let queue: any ConsumerQueue
    private let processor: any BatchProcessing
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let failing = Atomic<Bool>(false)

    init(
        configuration: WorkerConfiguration, queue: any ConsumerQueue, processor: any BatchProcessing, metrics: WorkerMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.queue = queue
        self.processor = processor
        self.metrics = metrics
        self.logger = logger
    }

    /// False while the worker is backing off after a Redis or Postgres failure (for `/readyz`).
    var isHealthy: Bool { !failing.load(ordering: .relaxed) }

    func run() async throws {
        await withGracefulShutdownHandler {
            await self.consume()
        } onGracefulShutdown: {
            self.stopRequested.store(true, ordering: .releasing)
        }
    }

    private var shouldStop: Bool {
        stopRequested.load(ordering: .acquiring) || Task.isCancelled
    }

    private func consume() async {
        var machine = ConsumerStateMachine(
            reclaimIntervalMilliseconds: configuration.reclaimIntervalMilliseconds, now: Self.monotonicMilliseconds())
        logger.info("Consuming", metadata: [
            "consumer": "\(configuration.consumer)", "batch_size": "\(configuration.batchSize)",
        ])
        // The batch whose settling failed, kept for the next attempt.
        var held: [StreamEntry] = []
        while true {
            if shouldStop { machine.shutdownRequested() }
            let action = machine.nextAction(now: Self.monotonicMilliseconds())
            do {
                switch action {
                case .stop:
                    logger.info("Consumer stopped", metadata: ["consumer": "\(configuration.consumer)"])
                    return
                case .backOff(let delay):
                    await sleep(delay)
                case .readOwnPending:
                    let count = try await readAndProcess(pending: true, holding: &held)
                    machine.readSucceeded(.ownPending, count: count)
                    if count > 0 { machine.batchSettled() }
                case .readNew:
                    let count = try await readAndProcess(pending: false, holding: &held)
                    machine.readSucceeded(.new, count: count)
                    if count > 0 { machine.batchSettled() }
                case .retryHeldBatch:
                    try await retryHeld(&held)
                    machine.heldBatchSettled()
                case .reclaim:
                    try await reclaim(holding: &held)
                    machine.reclaimFinished(now: Self.monotonicMilliseconds())
                }
            } catch {
                machine.infrastructureFailed(holdingBatch: !held.isEmpty)
                logger.warning("Redis or Postgres unavailable: backing off, nothing acknowledged", metadata: [
                    "consumer": "\(configuration.consumer)", "error": "\(error)",
                ])
            }
            failing.store(machine.isFailing, ordering: .relaxed)
        }
    }

    /// Reads one batch and settles it; returns how many entries it read. A batch that fails to settle is left in `held`.
    private func readAndProcess(pending: Bool, holding held: inout [StreamEntry]) async throws -> Int {
        let entries = try await queue.read(
            consumer: configuration.consumer, count: configuration.batchSize,
            blockMilliseconds: configuration.blockMilliseconds, pending: pending)
        if !entries.isEmpty {
            if pending {
                logger.info("Re-reading own pending entries", metadata: ["count": "\(entries.count)"])
            }
            try await settle(entries, holding: &held)
        }
        return entries.count
    }

    /// Settles `entries`; when that fails they become the batch in hand and the error is rethrown.
    private func settle(_ entries: [StreamEntry], holding held: inout [StreamEntry]) async throws {
        do {
            try await processor.process(entries)
            held = []
        } catch {
            held = entries
            throw error
        }
    }

    /// Retries the batch in hand: first re-asserts ownership of its entries (XCLAIM JUSTID: resets their idle time so no
    /// other worker reclaims them meanwhile, and leaves their delivery count alone), then settles those still pending.
    private func retryHeld(_ held: inout [StreamEntry]) async throws {
        let kept = try await queue.keepClaim(consumer: configuration.consumer, ids: held.map(\.id))
        let entries = held.filter { kept.contains($0.id) }
        logger.info("Retrying the batch in hand", metadata: [
            "count": "\(entries.count)", "settled_elsewhere": "\(held.count - entries.count)",
        ])
        if entries.isEmpty {
            held = []
        } else {
            try await settle(entries, holding: &held)
        }
    }

    /// Dead-letters poison entries (delivered more than the limit), then claims entries idle past the visibility
    /// timeout (looping the XAUTOCLAIM cursor) and settles them like any batch.
    private func reclaim(holding held: inout [StreamEntry]) async throws {
        let consumer = configuration.consumer
        let idle = configuration.visibilityTimeoutMilliseconds
        // Redis may have lost the stream (restarted without persistence): then nothing is stale and nothing is claimed;
        // reads re-create the group.
        let stale = try await queue.stalePending(minIdleMilliseconds: idle, count: 1_000)
        for entry in stale where entry.deliveries > configuration.maxDeliveries && !shouldStop {
            let burial = try await queue.buryPoison(
                entry, reason: "poison: delivered \(entry.deliveries) times", consumer: consumer,
                failedAtMilliseconds: processor.nowMilliseconds())
            if case .buried(let webhookId, let trimmed) = burial {
                processor.reportTrimmed(trimmed)
                metrics.count(.dead)
                logger.warning("Poison event dead-lettered", metadata: [
                    "entry_id": "\(entry.id)", "webhook_id": "\(webhookId)",
                    "deliveries": "\(entry.deliveries)", "previous_consumer": "\(entry.consumer)",
                ])
            }
        }

        var cursor = "0-0"
        var rounds = 0
        repeat {
            let claimed = try await queue.claim(
                consumer: consumer, minIdleMilliseconds: idle, cursor: cursor, count: configuration.batchSize)
            if !claimed.deletedIds.isEmpty {
                logger.info("Reclaim found entries deleted while pending; acknowledging them", metadata: [
                    "ids": "\(claimed.deletedIds.joined(separator: ","))",
                ])
                try await queue.acknowledge(claimed.deletedIds)
            }
            if !claimed.entries.isEmpty {
                metrics.reclaimed.increment(by: claimed.entries.count)
                logger.info("Reclaimed entries idle past the visibility timeout", metadata: [
                    "count": "\(claimed.entries.count)", "consumer": "\(consumer)",
                ])
                try await settle(claimed.entries, holding: &held)
            }
            cursor = claimed.nextCursor
            rounds += 1
        } while cursor != "0-0" && rounds < 1_000 && !shouldStop
    }

    /// Sleeps `duration` in short steps so a shutdown request is noticed promptly.
    private func sleep(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !shouldStop, ContinuousClock.now < deadline {
            let step = min(.milliseconds(100), deadline - ContinuousClock.now)
            try? await Task.sleep(for: step)
        }
    }

    /// Milliseconds since the process started the consumer type, from the monotonic clock (never jumps with wall time).
    static func monotonicMilliseconds() -> Int {
        (ContinuousClock.now - origin).milliseconds()
    }

    private static let origin = ContinuousClock.now
}
