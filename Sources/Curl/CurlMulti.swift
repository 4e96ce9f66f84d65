import Dispatch
import Foundation
import Synchronization
private import CCurl

/// A libcurl multi handle driven by its own thread: requests are queued under a lock, run concurrently by
/// `curl_multi_perform`/`curl_multi_poll`, and answered through their continuations.
final class CurlMulti: Sendable {
    typealias Continuation = CheckedContinuation<Result<CurlResponse, CurlError>, Never>

    private struct Submission: Sendable {
        var id: UInt64
        var request: CurlRequest
        var continuation: Continuation
    }

    private struct State {
        var queue: [Submission] = []
        /// Requests whose task was cancelled; an id stays until its `perform` returns and calls `forget`.
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
        var stopped: Bool
        /// Why every request fails at once (global or multi init failed); nil in normal operation.
        var brokenReason: CurlError?
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

    private let handle: CurlMultiHandle?
    private let state: Mutex<State>
    /// Signalled by the driving thread as its last act, so `shutdown()` can wait until every caller is answered.
    private let exited = DispatchSemaphore(value: 0)

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
        self.handle = handle
        state = Mutex(State(stopped: handle == nil, brokenReason: broken))
        if let handle {
            let thread = Thread { [self] in
                self.run(handle)
            }
            thread.name = "docket-curl"
            thread.start()
        }
    }

    /// A fresh id for one request, so that it can be cancelled before or after it is submitted.
    func makeRequestID() -> UInt64 {
        state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }

    /// Queues a request for the driving thread; the continuation is always resumed exactly once.
    func submit(_ request: CurlRequest, id: UInt64, _ continuation: Continuation) {
        let refusal: CurlError? = state.withLock { state in
            guard !state.stopped else {
                return state.brokenReason ?? Self.shutdownError
            }
            // The task may have been cancelled before it got here.
            guard !state.cancelled.contains(id) else { return Self.cancelledError }
            state.queue.append(Submission(id: id, request: request, continuation: continuation))
            handle?.wakeup()
            return nil
        }
        if let refusal {
            continuation.resume(returning: .failure(refusal))
        }
    }

    /// Asks the driving thread to abandon a request; its caller gets `cancelledError` unless it already finished.
    func cancel(id: UInt64) {
        state.withLock { state in
            guard !state.stopped else { return }
            state.cancelled.insert(id)
            handle?.wakeup()
        }
    }

    /// Drops a finished request's cancellation mark, if any; called once per request when `perform` returns.
    func forget(id: UInt64) {
        state.withLock { state in
            guard !state.cancelled.isEmpty else { return }
            state.cancelled.remove(id)
        }
    }

    /// Stops the thread after failing every queued and in-flight request; returns once they are all answered.
    func shutdown() {
        let shouldWait = state.withLock { state in
            guard !state.stopped else { return false }
            state.stopped = true
            handle?.wakeup()
            return true
        }
        if shouldWait {
            exited.wait()
        }
    }

    // MARK: - The driving thread

    private func run(_ handle: CurlMultiHandle) {
        var inFlight = InFlight()
        while true {
            let (batch, cancelled, stopped) = state.withLock { state in
                let batch = state.queue
                state.queue.removeAll()
                return (batch, state.cancelled, state.stopped)
            }
            if stopped {
                for submission in batch {
                    submission.continuation.resume(returning: .failure(Self.shutdownError))
                }
                break
            }
            for id in cancelled {
                guard let easy = inFlight.handleByID[id], let transfer = inFlight.remove(easy: easy) else { continue }
                _ = curl_multi_remove_handle(handle.raw, easy)
                transfer.complete(.failure(Self.cancelledError))
            }
            for submission in batch {
                if cancelled.contains(submission.id) {
                    submission.continuation.resume(returning: .failure(Self.cancelledError))
                } else {
                    start(submission, on: handle, into: &inFlight)
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
        exited.signal()
    }

    private func start(_ submission: Submission, on handle: CurlMultiHandle, into inFlight: inout InFlight) {
        guard let transfer = CurlTransfer(id: submission.id, continuation: submission.continuation) else {
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

    private func collectFinished(on handle: CurlMultiHandle, from inFlight: inout InFlight) {
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
