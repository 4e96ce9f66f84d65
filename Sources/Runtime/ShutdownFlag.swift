import Synchronization

/// A thread-safe flag that is set once graceful shutdown has begun; readiness turns false at that moment.
public final class ShutdownFlag: Sendable {
    private let state = Atomic<Bool>(false)

    /// Creates a flag that is not yet set.
    public init() {}

    /// Whether graceful shutdown has begun.
    public var isShuttingDown: Bool { state.load(ordering: .acquiring) }

    /// Marks shutdown as begun; idempotent.
    public func begin() { state.store(true, ordering: .releasing) }
}
