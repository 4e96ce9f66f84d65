import Confinement
import Dispatch
import Synchronization
import Testing

/// The shutdown and cancellation rules every C client inherits from `ConfinedThread`.
@Suite struct ConfinedThreadTests {
    /// Runs its closure on the thread, or records why it did not.
    struct Probe: ConfinedJob {
        let work: @Sendable () -> Void
        let refused: @Sendable (JobRefusal) -> Void

        func refuse(_ reason: JobRefusal) { refused(reason) }
    }

    final class Log: Sendable {
        private let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    /// A thread that runs each job it takes, in order.
    static func running(
        wake: (@Sendable () -> Void)? = nil, onCancelRunning: (@Sendable (UInt64) -> Void)? = nil
    ) -> ConfinedThread<Probe> {
        let thread = ConfinedThread<Probe>(name: "confined-test", wake: wake, onCancelRunning: onCancelRunning)
        thread.start { thread in
            while let batch = thread.next() {
                for (_, job) in batch { job.work() }
            }
        }
        return thread
    }

    @Test func jobsRunInOrderOnOneThread() async throws {
        let thread = Self.running()
        defer { thread.shutdown() }
        let log = Log()
        for n in 0..<100 {
            let value: Int = try await thread.perform { continuation in
                Probe(work: { log.add("\(n)"); continuation.resume(returning: n) }, refused: { _ in continuation.resume(throwing: CancellationError()) })
            }
            #expect(value == n)
        }
        #expect(log.all == (0..<100).map(String.init))
    }

    @Test func shutdownRefusesWhatWaitsAndWhatComesLaterAndReturnsAfterTheThreadExits() {
        let thread = ConfinedThread<Probe>(name: "confined-test")
        let log = Log()
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        thread.start { thread in
            while let batch = thread.next() {
                for (_, job) in batch { job.work() }
            }
            log.add("closed")
        }
        // The first job holds the thread; the next two wait in the queue.
        thread.submit(Probe(work: { started.signal(); release.wait(); log.add("first") }, refused: { log.add("first \($0)") }), id: thread.makeID())
        started.wait()
        thread.submit(Probe(work: { log.add("second") }, refused: { log.add("second \($0)") }), id: thread.makeID())
        thread.submit(Probe(work: { log.add("third") }, refused: { log.add("third \($0)") }), id: thread.makeID())
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { release.signal() }
        // A second, concurrent shutdown also returns only after the thread has exited.
        let concurrent = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            thread.shutdown()
            log.add("concurrent returned")
            concurrent.signal()
        }
        thread.shutdown()
        concurrent.wait()
        // The waiting ones were refused at once, the job in hand finished, the resource closed last — all before
        // shutdown returned.
        #expect(Array(log.all.prefix(4)) == ["second shutdown", "third shutdown", "first", "closed"])
        #expect(log.all.last == "concurrent returned")
        thread.submit(Probe(work: { log.add("late") }, refused: { log.add("late \($0)") }), id: thread.makeID())
        #expect(log.all.last == "late shutdown")
        thread.shutdown()  // twice is fine
    }

    @Test func aCancelledTasksJobIsRefusedWhileItWaitsAndRunsToItsEndOnceTaken() async throws {
        let thread = Self.running()
        let log = Log()
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        defer { thread.shutdown() }
        // Holds the thread until released.
        let blocker = Task {
            try await thread.perform { (continuation: CheckedContinuation<Void, any Error>) in
                Probe(work: { started.signal(); release.wait(); log.add("blocker ran"); continuation.resume() },
                      refused: { _ in continuation.resume(throwing: CancellationError()) })
            }
        }
        started.wait()
        let waiting = Task {
            try await thread.perform { (continuation: CheckedContinuation<Void, any Error>) in
                Probe(work: { log.add("waiting ran"); continuation.resume() },
                      refused: { reason in log.add("waiting \(reason)"); continuation.resume(throwing: CancellationError()) })
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        blocker.cancel()  // already taken: it runs to its end
        await #expect(throws: CancellationError.self) { try await waiting.value }
        release.signal()
        try await blocker.value
        #expect(log.all == ["waiting cancelled", "blocker ran"])

        // A task cancelled before it submits never queues anything.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await thread.perform { (continuation: CheckedContinuation<Int, any Error>) in
                Probe(work: { continuation.resume(returning: 1) }, refused: { _ in continuation.resume(throwing: CancellationError()) })
            }
        }
        await #expect(throws: CancellationError.self) { try await early.value }
    }

    @Test func theCancelHookHearsAboutTakenJobsOnlyAndNothingIsCalledAfterShutdown() async throws {
        let hooks = Log()
        let thread = Self.running(wake: { hooks.add("wake") }, onCancelRunning: { hooks.add("running \($0)") })
        let id = thread.makeID()
        thread.submit(Probe(work: {}, refused: { _ in }), id: id)
        #expect(hooks.all.first == "wake")
        try await Task.sleep(for: .milliseconds(50))  // taken and run by now
        thread.cancel(id)
        #expect(hooks.all.contains("running \(id)"))
        thread.shutdown()
        let count = hooks.all.count
        thread.cancel(id)
        thread.submit(Probe(work: {}, refused: { _ in }), id: thread.makeID())
        #expect(hooks.all.count == count, "no wake and no hook after shutdown")
    }
}
