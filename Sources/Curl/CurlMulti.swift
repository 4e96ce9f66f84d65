import Confinement
import Synchronization
private import CCurl

/// A libcurl multi handle driven by a `ConfinedThread` (the pattern every C client here follows: its shutdown and
/// cancellation rules are that type's): requests are queued, run concurrently by `curl_multi_perform`/`curl_multi_poll`,
/// and answered through their continuations. Unlike a blocking hiredis or libpq call, a transfer in progress can be
/// abandoned: cancelling its task removes it from the multi handle.
final class CurlMulti: Sendable {
    typealias Continuation = CheckedContinuation<Result<CurlResponse, CurlError>, Never>

    private struct Submission: ConfinedJob {
        var request: CurlRequest
        var continuation: Continuation

        func refuse(_ reason: JobRefusal) {
            continuation.resume(returning: .failure(reason == .cancelled ? CurlMulti.cancelledError : CurlMulti.shutdownError))
        }
    }

    /// What the driving thread has handed to libcurl; only that thread touches it.
    private struct InFlight {
        var byHandle: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        var handleByID: [UInt64: UnsafeMutableRawPointer] = [:]

        mutating func insert(_ transfer: CurlTransfer) {
            byHandle[transfer.easy] = transfer
            handleByID[transfer.id] = transfer.easy
        }

        mutating func remove(easy: UnsafeMutableRawPointer) -> CurlTransfer? {
            guard let transfer = byHandle.removeValue(forKey: easy) else { return nil }
            handleByID[transfer.id] = nil
            return transfer
        }
    }

    private let thread: ConfinedThread<Submission>
    /// Requests cancelled after the thread took them; an id stays until its `perform` returns and calls `forget`.
    private let cancelledInFlight = CancelMarks()
    /// Why every request fails at once (global or multi init failed); nil in normal operation.
    private let brokenReason: CurlError?

    /// How long one `curl_multi_poll` may sleep when libcurl wants nothing sooner; a wakeup cuts it short.
    private static let pollTimeoutMilliseconds: Int32 = 1000

    static let shutdownError = CurlError.client("the curl client was shut down before the request completed")
    static let cancelledError = CurlError.client("the request was cancelled")

    init(maxConnections: Int) {
        var broken = CurlGlobal.ensureInitialized()
        let handle = broken == nil ? CurlMultiHandle(maxConnections: maxConnections) : nil
        if broken == nil, handle == nil {
            broken = .client("curl_multi_init failed")
        }
        brokenReason = broken
        let cancelledInFlight = self.cancelledInFlight
        // `wakeup` and the cancel hook run under the thread's lock and never after it has seen shutdown, so they cannot
        // race the handle's cleanup (CurlMultiHandle's safety argument).
        thread = ConfinedThread(
            name: "docket-curl",
            wake: { handle?.wakeup() },
            onCancelRunning: { id in
                cancelledInFlight.ids.withLock { _ = $0.insert(id) }
                handle?.wakeup()
            })
        if let handle {
            thread.start { [cancelledInFlight] thread in
                Self.run(thread, handle, cancelledInFlight)
            }
        }
    }

    /// A fresh id for one request, so that it can be cancelled before or after it is submitted.
    func makeRequestID() -> UInt64 {
        thread.makeID()
    }

    /// Queues a request for the driving thread; the continuation is always resumed exactly once.
    func submit(_ request: CurlRequest, id: UInt64, _ continuation: Continuation) {
        if let brokenReason {
            continuation.resume(returning: .failure(brokenReason))
            return
        }
        thread.submit(Submission(request: request, continuation: continuation), id: id)
    }

    /// Abandons a request: refused if still queued, removed from the multi handle if in flight; its caller gets
    /// `cancelledError` unless it already finished.
    func cancel(id: UInt64) {
        thread.cancel(id)
    }

    /// Drops a finished request's cancellation mark, if any; called once per request when `perform` returns.
    func forget(id: UInt64) {
        cancelledInFlight.ids.withLock { cancelled in
            guard !cancelled.isEmpty else { return }
            cancelled.remove(id)
        }
    }

    /// Fails every queued and in-flight request, stops the thread, and returns once they are all answered.
    func shutdown() {
        thread.shutdown()
    }

    /// Ids shared by the cancel hook (any thread) and the driving thread.
    private final class CancelMarks: Sendable {
        let ids = Mutex<Set<UInt64>>([])
    }

    // MARK: - The driving thread

    private static func run(_ thread: ConfinedThread<Submission>, _ handle: CurlMultiHandle, _ cancelledInFlight: CancelMarks) {
        var inFlight = InFlight()
        while let batch = thread.take() {
            let cancelled = cancelledInFlight.ids.withLock { $0 }
            for id in cancelled {
                guard let easy = inFlight.handleByID[id], let transfer = inFlight.remove(easy: easy) else { continue }
                _ = curl_multi_remove_handle(handle.raw, easy)
                transfer.complete(.failure(Self.cancelledError))
            }
            for (id, submission) in batch {
                if cancelled.contains(id) {
                    submission.refuse(.cancelled)
                } else {
                    start(id: id, submission, on: handle, into: &inFlight)
                }
            }
            var running: Int32 = 0
            _ = curl_multi_perform(handle.raw, &running)
            collectFinished(on: handle, from: &inFlight)
            var readyDescriptors: Int32 = 0
            _ = curl_multi_poll(handle.raw, nil, 0, Self.pollTimeoutMilliseconds, &readyDescriptors)
        }
        for (easy, transfer) in inFlight.byHandle {
            _ = curl_multi_remove_handle(handle.raw, easy)
            transfer.complete(.failure(Self.shutdownError))
        }
        inFlight = InFlight()
        handle.cleanup()
    }

    private static func start(id: UInt64, _ submission: Submission, on handle: CurlMultiHandle, into inFlight: inout InFlight) {
        guard let transfer = CurlTransfer(id: id, continuation: submission.continuation) else {
            submission.continuation.resume(returning: .failure(.client("curl_easy_init failed")))
            return
        }
        do throws(CurlError) {
            try transfer.configure(submission.request)
        } catch {
            transfer.complete(.failure(error))
            return
        }
        let added = curl_multi_add_handle(handle.raw, transfer.easy)
        guard added == CURLM_OK else {
            let message = String(cString: curl_multi_strerror(added))
            transfer.complete(.failure(.client("curl_multi_add_handle failed: \(message)")))
            return
        }
        inFlight.insert(transfer)
    }

    private static func collectFinished(on handle: CurlMultiHandle, from inFlight: inout InFlight) {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(handle.raw, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            // Read the result before removing the handle: removal invalidates the message.
            let result = message.pointee.data.result
            _ = curl_multi_remove_handle(handle.raw, easy)
            inFlight.remove(easy: easy)?.finish(result)
        }
    }
}
