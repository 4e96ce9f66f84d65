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
        var wasFailing = false
        var tick = 0
        while !Task.isCancelled {
            do {
                // A full batch means more are due: go again at once rather than falling behind.
                for client in clients {
                    var moved = 0
                    repeat {
                        moved = try await promoteOnce(client)
                    } while moved == limit && !Task.isCancelled
                }
                if tick % 2 == 0 { try await sampleLag() }
                if wasFailing { logger.info("Retry promotion resumed") }
                wasFailing = false
            } catch {
                // Cancelled at shutdown: the call was refused, nothing failed.
                if Task.isCancelled { return }
                if !wasFailing {
                    logger.warning("Retry promotion failed; will try again", metadata: ["error": "\(error)"])
                }
                wasFailing = true
            }
            tick &+= 1
            try? await Task.sleep(for: interval)
        }
    }

    private func promoteOnce(_ client: QueueClient) async throws -> Int {
        let moved = try await client.promoteDueRetries(nowMilliseconds: nowMilliseconds(), limit: limit)
        if moved > 0 {
            logger.debug("Promoted due retries", metadata: ["count": "\(moved)"])
        }
        return moved
    }

    /// Samples the `workers` group's lag (entries not yet delivered; 0 when the stream is missing); when Redis cannot
    /// tell, the gauge keeps its last value.
    private func sampleLag() async throws {
        var total = 0
        for client in clients {
            guard let lag = try await client.groupLag() else { return }
            total += lag
        }
        metrics.streamLag.record(total)
    }
}
