import Foundation

/// Polls `condition` until it returns true; throws a `.timeout` error naming the wait if it never does.
public func waitUntil(
    timeout: Duration,
    poll: Duration = .milliseconds(50),
    what: String = "condition",
    _ condition: () throws -> Bool
) throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if try condition() { return }
        if ContinuousClock.now >= deadline {
            throw TestSupportError(.timeout, "timed out after \(timeout) waiting for \(what)")
        }
        Thread.sleep(forTimeInterval: poll.seconds)
    }
}

/// Async variant: sleeps with `Task.sleep`, so waiting does not hold a cooperative thread.
public func waitUntil(
    timeout: Duration,
    poll: Duration = .milliseconds(50),
    what: String = "condition",
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline {
            throw TestSupportError(.timeout, "timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: poll)
    }
}

extension Duration {
    /// The duration in seconds, for Foundation APIs that take a TimeInterval.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
