import Logging
import Runtime
import Store
import Synchronization

/// Group commit for request outcomes: whatever finished while the previous batch was being written goes to Postgres
/// as the next batch, in one pipeline and one commit. One fsync per batch instead of one per request is what lets a
/// scheduler keep up with many requests in flight.
final class OutcomeRecorder: Sendable {
    private struct Pending {
        var outcome: ReviewOutcome
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var pending: [Pending] = []
        /// Set when `run` has ended: later outcomes are refused at once rather than waiting forever.
        var closed = false
    }

    /// Most outcomes written in one pipeline.
    static let maxBatch = 256

    private let database: StoreClient
    private let logger: Logger
    private let state = Mutex(State())
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    /// Creates a recorder writing through `database` (best a client of its own, so claims do not wait behind writes).
    init(database: StoreClient, logger: Logger) {
        self.database = database
        self.logger = logger
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Records an outcome and returns once it is committed: true, or false when it could not be written (the claim
    /// then lapses with its lease and the review is requested again, harmlessly thanks to the Idempotency-Key).
    @discardableResult
    func record(_ outcome: ReviewOutcome) async -> Bool {
        await withCheckedContinuation { continuation in
            let accepted = state.withLock { state in
                if state.closed { return false }
                state.pending.append(Pending(outcome: outcome, continuation: continuation))
                return true
            }
            if accepted {
                signal.yield()
            } else {
                continuation.resume(returning: false)
            }
        }
    }

    /// Writes batches until cancelled, then writes what is left and refuses anything later.
    func run() async {
        for await _ in signals {
            await flush()
        }
        state.withLock { $0.closed = true }
        // This task was cancelled to stop it, and a cancelled task's store calls are refused before they run
        // (ConfinedThread): the last writes go in a task of their own, which is not.
        await Task { await self.flush() }.value
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state in
                let batch = Array(state.pending.prefix(Self.maxBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            let written = await write(batch.map(\.outcome))
            for (item, ok) in zip(batch, written) {
                item.continuation.resume(returning: ok)
            }
        }
    }

    /// The batch in one pipeline, retried through connection failures; a statement error (say a documentId another
    /// review holds) rolls the batch back, so then each outcome is written on its own.
    private func write(_ outcomes: [ReviewOutcome]) async -> [Bool] {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        for _ in 0..<6 {
            do {
                try await database.record(outcomes)
                return Array(repeating: true, count: outcomes.count)
            } catch let error where !(error is StoreUnavailable) && !(error is CancellationError) {
                return await writeEach(outcomes)
            } catch {
                logger.warning("Could not record request outcomes; retrying", metadata: ["count": "\(outcomes.count)", "error": "\(error)"])
                do { try await Task.sleep(for: backoff.next()) } catch { break }
            }
        }
        logger.error(
            "Giving up recording request outcomes; their reviews will be requested again when the claims lapse",
            metadata: ["count": "\(outcomes.count)"]
        )
        return Array(repeating: false, count: outcomes.count)
    }

    private func writeEach(_ outcomes: [ReviewOutcome]) async -> [Bool] {
        var written: [Bool] = []
        for outcome in outcomes {
            do {
                try await database.recordAlone(outcome)
                written.append(true)
            } catch {
                logger.error("Could not record a request outcome", metadata: ["review_id": "\(outcome.id)", "error": "\(error)"])
                written.append(false)
            }
        }
        return written
    }
}
