import Dispatch
import Foundation
import Synchronization

/// Why a job did not run.
public enum JobRefusal: Sendable, Equatable {
    /// The thread was shut down before the job's turn (or the job came after).
    case shutdown
    /// The caller's task was cancelled while the job waited in the queue.
    case cancelled
}

/// A unit of work for a `ConfinedThread`: the thread runs it, or `refuse` is called instead — exactly one of the two.
public protocol ConfinedJob: Sendable {
    func refuse(_ reason: JobRefusal)
}

/// One thread that owns a resource no other thread may touch — a hiredis context, a libpq connection, a curl multi
/// handle (docs/architecture.md, "Layers, and why"): the one pattern Docket's three C clients share.
///
/// Callers submit jobs from any thread or task; the thread takes everything queued at once (so a client may pipeline a
/// batch), runs it, and waits for more. The semantics every client inherits:
/// - **Shutdown**: `shutdown()` refuses every queued job (`.shutdown`) and every later one at once, lets the thread
///   finish the job or batch in hand and close its resource, and returns when the thread has exited — every call, the
///   second and concurrent ones too. Call it from any thread but the confined one.
/// - **Cancellation**: a job whose task is cancelled while it waits in the queue is refused (`.cancelled`) and never
///   runs; a job already taken runs to its end, unless the client aborts it through `onCancelRunning` (curl can abort a
///   transfer; a blocking hiredis or libpq call cannot be interrupted).
public final class ConfinedThread<Job: ConfinedJob>: Sendable {
    private struct State {
        var queue: [(id: UInt64, job: Job)] = []
        var nextID: UInt64 = 0
        var stopped = false
        var started = false
    }

    private let state = Mutex(State())
    /// Counts submissions; `next()` sleeps on it. Threads that sleep elsewhere (curl_multi_poll) wake through `wake`.
    private let signal = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let wake: (@Sendable () -> Void)?
    private let onCancelRunning: (@Sendable (UInt64) -> Void)?
    private let name: String

    /// Makes the thread; it starts running `body` at `start(body)`. `wake` interrupts a thread that waits in something
    /// other than `next()` (say `curl_multi_poll`, woken by `curl_multi_wakeup`); `onCancelRunning` hears the id of a
    /// cancelled job that was already taken. Both are called under the thread's lock and only before shutdown, so once
    /// `take()` or `next()` has answered nil neither is ever called again: the confined thread may then free what they
    /// touch (a curl multi handle).
    public init(
        name: String, wake: (@Sendable () -> Void)? = nil, onCancelRunning: (@Sendable (UInt64) -> Void)? = nil
    ) {
        self.name = name
        self.wake = wake
        self.onCancelRunning = onCancelRunning
    }

    /// Starts the thread: `body` loops on `next()` (or `take()`) until it answers nil, closes its resource and returns.
    /// Jobs submitted before `start` wait for it.
    public func start(_ body: @escaping @Sendable (ConfinedThread<Job>) -> Void) {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in
            body(self)
            // Whatever came in after the body's last look is refused, not stranded.
            let leftovers = state.withLock { state in
                state.stopped = true
                defer { state.queue.removeAll() }
                return state.queue
            }
            for item in leftovers { item.job.refuse(.shutdown) }
            exited.signal()
        }
        thread.name = name
        thread.start()
    }

    /// An id for a job, so it can be cancelled before or after it is submitted.
    public func makeID() -> UInt64 {
        state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
    }

    /// Queues `job` under `id`, or refuses it at once: `.shutdown` after `shutdown()`, `.cancelled` when the current
    /// task is already cancelled (checked under the lock `cancel` takes, so a cancellation is never missed).
    public func submit(_ job: Job, id: UInt64) {
        let refusal: JobRefusal? = state.withLock { state in
            if state.stopped { return .shutdown }
            if Task.isCancelled { return .cancelled }
            state.queue.append((id, job))
            wake?()
            return nil
        }
        if let refusal {
            job.refuse(refusal)
        } else {
            signal.signal()
        }
    }

    /// Runs a job made around a continuation, and waits for it. Cancelling the calling task refuses the job if it has
    /// not been taken yet (see the type's cancellation rule).
    public func perform<T: Sendable>(_ make: (CheckedContinuation<T, any Error>) -> Job) async throws -> T {
        let id = makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in submit(make(continuation), id: id) }
        } onCancel: {
            cancel(id)
        }
    }

    /// Refuses the job with `id` if it is still queued; otherwise tells `onCancelRunning` (the job may be running, or
    /// done).
    public func cancel(_ id: UInt64) {
        let removed: Job? = state.withLock { state in
            guard let index = state.queue.firstIndex(where: { $0.id == id }) else {
                if !state.stopped { onCancelRunning?(id) }
                return nil
            }
            return state.queue.remove(at: index).job
        }
        removed?.refuse(.cancelled)
    }

    /// For the confined thread: the queued jobs (at most `limit`, oldest first; the rest stay queued, cancellable),
    /// waiting until there is one; nil once shut down (the queued jobs are refused).
    public func next(limit: Int = .max) -> [(id: UInt64, job: Job)]? {
        while true {
            switch take(limit: limit) {
            case nil: return nil
            case let batch? where !batch.isEmpty: return batch
            default: signal.wait()
            }
        }
    }

    /// For the confined thread: the queued jobs (at most `limit`) without waiting, possibly none; nil once shut down
    /// (the queued jobs are refused).
    public func take(limit: Int = .max) -> [(id: UInt64, job: Job)]? {
        let (batch, stopped) = state.withLock { state in
            if limit >= state.queue.count {
                defer { state.queue.removeAll(keepingCapacity: true) }
                return (state.queue, state.stopped)
            }
            defer { state.queue.removeFirst(limit) }
            return (Array(state.queue.prefix(limit)), state.stopped)
        }
        guard stopped else { return batch }
        for item in batch { item.job.refuse(.shutdown) }
        return nil
    }

    /// Refuses queued and later jobs, wakes the thread, and returns once it has exited (at once if it never started).
    public func shutdown() {
        let (queued, started) = state.withLock { state in
            if !state.stopped {
                // The last wake: the thread sees `stopped` right after, and nothing wakes it again.
                wake?()
                state.stopped = true
            }
            defer { state.queue.removeAll() }
            return (state.queue, state.started)
        }
        for item in queued { item.job.refuse(.shutdown) }
        signal.signal()
        if started {
            exited.wait()
            exited.signal()  // for every other caller, now or later
        }
    }
}
