import Curl
import Foundation
import Logging
import Model
import Runtime
import ServiceLifecycle
import Store
import Synchronization

/// Finds due QUEUED reviews (NOTIFY plus polling), asks the Help Desk to review them with up to `maxInFlight` requests
/// in flight, and records each answer. Graceful shutdown stops claiming, lets in-flight requests finish and gives back
/// any claim it could not settle.
final class ReviewScheduler: Service, Sendable {
    private struct State {
        /// Claimed reviews whose outcome is not recorded yet.
        var claimed: Set<Int> = []
        /// Set once graceful shutdown begins: no more claims.
        var stopping = false
        /// Whether the last claim query reached Postgres (readiness).
        var databaseReachable = false
        /// The backend our LISTEN was issued on; a new backend (after a reconnect) needs LISTEN again.
        var listeningBackend: Int32 = 0
    }

    private let configuration: SchedulerConfiguration
    private let classifier: RequestClassifier
    /// Claims, releases and stale counts; one connection on its own thread.
    private let database: StoreClient
    /// Writes request outcomes in batches on a connection of its own.
    private let recorder: OutcomeRecorder
    /// LISTEN only: it blocks in poll() between notifications, so it gets its own connection and thread.
    private let listener: StoreClient
    private let curl: CurlClient
    private let metrics: SchedulerMetrics
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates the scheduler; it owns neither client (the command shuts them down after `run` returns).
    init(
        configuration: SchedulerConfiguration,
        database: StoreClient,
        recording: StoreClient,
        listener: StoreClient,
        curl: CurlClient,
        metrics: SchedulerMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.classifier = RequestClassifier(policy: configuration.retryPolicy)
        self.database = database
        self.recorder = OutcomeRecorder(database: recording, logger: logger)
        self.listener = listener
        self.curl = curl
        self.metrics = metrics
        self.logger = logger
    }

    /// True while Postgres answered the last claim query and shutdown has not begun.
    var isReady: Bool {
        state.withLock { $0.databaseReachable && !$0.stopping }
    }

    func run() async throws {
        let (wakeups, waker) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        waker.yield()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { background in
                background.addTask { await self.listenForSubmissions(waker) }
                background.addTask { await self.pollPeriodically(waker) }
                background.addTask { await self.watchStaleReviews() }
                // Cancelled only after every request has ended, so each outcome is written before it stops.
                background.addTask { await self.recorder.run() }
                // Requests run as child tasks of this group, so leaving it means every in-flight request has ended.
                await withDiscardingTaskGroup { requests in
                    await self.dispatch(wakeups, waker: waker, into: &requests)
                }
                background.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.stopping = true }
            waker.yield()
        }
        // On a forced shutdown this task is cancelled, and a cancelled task's store calls are refused before they run
        // (ConfinedThread): giving the claims back is what that case needs most, so it runs in a task of its own.
        await Task { await self.releaseUnsettledClaims() }.value
    }

    /// The request loop: on every wake-up, claims as many due reviews as there are free slots and starts their
    /// requests in `requests`. Returns once shutdown begins.
    private func dispatch(
        _ wakeups: AsyncStream<Void>,
        waker: AsyncStream<Void>.Continuation,
        into requests: inout DiscardingTaskGroup
    ) async {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        for await _ in wakeups {
            if isStopping || Task.isCancelled { return }
            let inFlight = state.withLock { $0.claimed.count }
            guard let limit = Self.claimLimit(maxInFlight: configuration.maxInFlight, inFlight: inFlight) else { continue }
            let claimed: [ClaimedReview]
            do {
                claimed = try await claim(limit: limit)
                backoff.reset()
            } catch {
                state.withLock { $0.databaseReachable = false }
                let delay = backoff.next()
                logger.warning("Could not claim reviews; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
                waker.yield()
                continue
            }
            for review in claimed {
                requests.addTask {
                    await self.process(review)
                    waker.yield()
                }
            }
        }
    }

    /// How many reviews to claim now, or nil to wait for the next wake-up: every free slot, but only once at least an
    /// eighth of them are free while requests are in flight (claiming a few at a time would cost a commit per request),
    /// and at once when idle.
    static func claimLimit(maxInFlight: Int, inFlight: Int) -> Int? {
        let free = maxInFlight - inFlight
        guard free > 0, free >= max(1, maxInFlight / 8) || inFlight == 0 else { return nil }
        return free
    }

    private var isStopping: Bool {
        state.withLock { $0.stopping }
    }

    /// Claims up to `limit` due reviews and registers them as in flight before any request starts.
    private func claim(limit: Int) async throws -> [ClaimedReview] {
        let claimed = try await database.claimDue(limit: limit, lease: configuration.claimLease)
        let inFlight = state.withLock { state in
            state.databaseReachable = true
            state.claimed.formUnion(claimed.map(\.id))
            return state.claimed.count
        }
        metrics.inFlight.record(inFlight)
        if !claimed.isEmpty {
            logger.debug("Claimed reviews", metadata: ["count": "\(claimed.count)"])
        }
        return claimed
    }

    /// One request for one review, then its outcome recorded. A request cut short by cancellation (a forced
    /// shutdown) records nothing: its claim is given back instead.
    private func process(_ review: ClaimedReview) async {
        let attempt = review.requestAttempts + 1
        let started = ContinuousClock.now
        let result: Result<CurlResponse, CurlError>
        do {
            result = .success(try await curl.perform(makeRequest(for: review)))
        } catch {
            result = .failure(error)
        }
        metrics.requestDuration.record(duration: started.duration(to: .now))
        if Task.isCancelled {
            return
        }
        let decision = classifier.decide(result, attempt: attempt, random: Double.random(in: Double.ulpOfOne...1))
        metrics.count(decision)
        log(decision, for: review, attempt: attempt)
        // Settled either way: recorded, or left to its lease when Postgres stayed unreachable.
        await recorder.record(Self.outcome(of: decision, for: review.id))
        let inFlight = state.withLock { state in
            state.claimed.remove(review.id)
            return state.claimed.count
        }
        metrics.inFlight.record(inFlight)
    }

    static func outcome(of decision: RequestDecision, for id: Int) -> ReviewOutcome {
        switch decision {
        case .accepted(let agentId, let documentId): .accepted(id: id, agentId: agentId, documentId: documentId)
        case .retry(let delay, let reason): .retry(id: id, error: reason, retryAfter: delay)
        case .failed(let reason): .failed(id: id, reason: reason)
        }
    }

    /// The Help Desk request for a review (docs/reference.md §10): JSON body, callback, and an Idempotency-Key
    /// that makes a repeat after a crash harmless.
    func makeRequest(for review: ClaimedReview) -> CurlRequest {
        let body = (try? JSONSerialization.data(withJSONObject: ["documentUrl": review.documentURL], options: [.withoutEscapingSlashes]))
            .map { Array($0) } ?? []
        return CurlRequest(
            method: "POST",
            url: configuration.documentEndpoint,
            headers: [
                CurlHeader(name: "Content-Type", value: "application/json"),
                CurlHeader(name: "Accept", value: "application/json"),
                CurlHeader(name: "X-Callback-Url", value: configuration.callbackURL),
                CurlHeader(name: "Idempotency-Key", value: "docket-review-\(review.id)"),
            ],
            body: body,
            connectTimeout: configuration.connectTimeout,
            timeout: configuration.requestTimeout
        )
    }

    private func log(_ decision: RequestDecision, for review: ClaimedReview, attempt: Int) {
        let metadata: Logger.Metadata = ["review_id": "\(review.id)", "attempt": "\(attempt)"]
        switch decision {
        case .accepted(_, let documentId):
            logger.debug("Review requested", metadata: metadata.merging(["document_id": "\(documentId)"]) { $1 })
        case .retry(let delay, let reason):
            logger.info(
                "Review request failed; will retry",
                metadata: metadata.merging(["reason": "\(reason)", "retry_in": "\(delay)"]) { $1 }
            )
        case .failed(let reason):
            logger.warning("Review request failed for good", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
        }
    }

    /// Gives back claims whose outcome was never recorded (a forced shutdown), so another scheduler can take them now.
    private func releaseUnsettledClaims() async {
        let ids = state.withLock { state in
            let ids = Array(state.claimed)
            state.claimed.removeAll()
            return ids
        }
        metrics.inFlight.record(0)
        guard !ids.isEmpty else { return }
        do {
            try await database.releaseClaims(ids: ids)
            logger.info("Released unsettled claims", metadata: ["count": "\(ids.count)"])
        } catch {
            logger.warning("Could not release claims; they lapse with their lease", metadata: ["count": "\(ids.count)", "error": "\(error)"])
        }
    }

    // MARK: - Background loops (cancelled when the request loop ends)

    /// Wakes the request loop when `docketctl submit` (or a trigger) NOTIFYs; re-issues LISTEN after a reconnect.
    private func listenForSubmissions(_ waker: AsyncStream<Void>.Continuation) async {
        var backoff = Backoff()
        let wait = min(configuration.pollInterval, .milliseconds(500))
        while !Task.isCancelled {
            do {
                let listening = state.withLock { $0.listeningBackend }
                let (backend, notified) = try await listener.waitForSubmissions(listeningBackend: listening, timeout: wait)
                if backend != listening {
                    // A fresh LISTEN may have missed notifications sent while we were reconnecting.
                    state.withLock { $0.listeningBackend = backend }
                    waker.yield()
                }
                if notified { waker.yield() }
                backoff.reset()
            } catch {
                logger.debug("LISTEN connection failed; polling continues", metadata: ["error": "\(error)"])
                state.withLock { $0.listeningBackend = 0 }
                do { try await Task.sleep(for: backoff.next()) } catch { return }
            }
        }
    }

    /// Retries become due without any NOTIFY, and a notification can be missed: look every poll interval.
    private func pollPeriodically(_ waker: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.pollInterval) } catch { return }
            waker.yield()
        }
    }

    /// Keeps the stale-review gauge current.
    private func watchStaleReviews() async {
        let timeout = configuration.reviewTimeout
        let interval = max(configuration.pollInterval, .seconds(1))
        while !Task.isCancelled {
            do {
                let stale = try await database.stalePendingCount(olderThan: timeout)
                metrics.staleReviews.record(stale)
            } catch {
                logger.debug("Could not count stale reviews", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
