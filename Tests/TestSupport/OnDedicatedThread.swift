import Foundation

/// Runs blocking work (starting or restarting a server, waiting for a child) on its own thread, so an async test
/// does not hold one of the few cooperative threads that every parallel test's timers and I/O depend on.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.name = "docket-test-blocking"
        thread.start()
    }
}
