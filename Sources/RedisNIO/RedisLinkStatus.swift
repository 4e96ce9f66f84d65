import Synchronization

/// Whether an event-loop Redis link is up and answered its setup; readable from any thread (readiness probes).
public final class RedisLinkStatus: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    /// True from the first answered setup after a connect until the link fails or closes.
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    /// Sets the flag and returns its previous value.
    func exchange(_ value: Bool) -> Bool {
        ready.exchange(value, ordering: .relaxed)
    }
}
