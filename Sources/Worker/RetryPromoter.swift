import Logging
import Queue
import Runtime
import ServiceLifecycle

/// Moves due retries from `{P}:retry` back onto the events stream every interval (atomic Lua, bounded batch), so retries
/// need no other process; safe with any number of workers. Every partition in turn. Also samples the stream lag gauge
/// (the sum over partitions).
struct RetryPromoter: Service {
    /// One per partition.
    let clients: [QueueClient]
    let interval: Duration
    let limit: Int
    let metrics: WorkerMetrics
    let logger: Logger
    let nowMilliseconds: @Sendable () -> Int

    func run() async throws {
        // Cancelled (not failed) on graceful shutdown: promotion has nothing in hand worth finishing.
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    private func loop() async {
        // Per partition: one that keeps failing never holds up the others' retries.
        var failing = Array(repeating: false, count: clients.count)
        var tick = 0
        while !Task.isCancelled {
            for (index, client) in clients.enumerated() {
                do {
                    // A full batch means more are due: go again at once rather than falling behind.
                    var moved = 0
                    repeat {
                        moved = try await promoteOnce(client)
                    } while moved == limit && !Task.isCancelled
                    if failing[index] { logger.info("Retry promotion resumed", metadata: partitionMetadata(index)) }
                    failing[index] = false
                } catch {
                    // Cancelled at shutdown: the call was refused, nothing failed.
                    if Task.isCancelled { return }
                    if !failing[index] {
                        logger.warning("Retry promotion failed; will try again",
                                       metadata: partitionMetadata(index).merging(["error": "\(error)"]) { _, new in new })
                    }
                    failing[index] = true
                }
            }
            if tick % 2 == 0 { await sampleLag() }
            tick &+= 1
            try? await Task.sleep(for: interval)
        }
    }

    private func partitionMetadata(_ index: Int) -> Logger.Metadata {
        clients.count > 1 ? ["partition": "\(index)"] : [:]
    }

    private func promoteOnce(_ client: QueueClient) async throws -> Int {
        let moved = try await client.promoteDueRetries(nowMilliseconds: nowMilliseconds(), limit: limit)
        if moved > 0 {
            logger.debug("Promoted due retries", metadata: ["count": "\(moved)"])
        }
        return moved
    }

    /// Samples the `workers` group's lag (entries not yet delivered; 0 when the stream is missing), summed over the
    /// partitions Redis can tell it for; when it can tell for none, the gauge keeps its last value.
    private func sampleLag() async {
        var total: Int?
        for client in clients {
            if let lag = try? await client.groupLag() { total = (total ?? 0) + lag }
        }
        if let total { metrics.streamLag.record(total) }
    }
}
