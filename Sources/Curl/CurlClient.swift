/// An HTTP client over libcurl that keeps many requests in flight on one dedicated thread; safe to share.
public final class CurlClient: Sendable {
    private let multi: CurlMulti

    /// Starts the client's thread; at most `maxConnections` connections are open at once, further requests wait.
    public init(maxConnections: Int = 64) {
        multi = CurlMulti(maxConnections: maxConnections)
    }

    deinit {
        multi.shutdown()
    }

    /// Sends the request and returns the response whatever its status; throws only when no response arrived.
    /// Cancelling the calling task abandons the request (the error's message says it was cancelled).
    public func perform(_ request: CurlRequest) async throws(CurlError) -> CurlResponse {
        let id = multi.makeRequestID()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                multi.submit(request, id: id, continuation)
            }
        } onCancel: {
            multi.cancel(id: id)
        }
        multi.forget(id: id)
        return try result.get()
    }

    /// Fails queued and in-flight requests, then stops the thread; later `perform` calls fail at once.
    public func shutdown() {
        multi.shutdown()
    }
}
