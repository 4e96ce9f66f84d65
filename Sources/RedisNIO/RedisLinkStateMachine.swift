/// The lifecycle of one event-loop Redis link without I/O: connect, serve, fail, back off, reconnect, close.
/// `RedisLoopConnection` feeds it events and carries out the actions it returns.
struct RedisLinkStateMachine {
    enum State: Equatable {
        case idle
        case connecting
        case connected
        case backingOff
        case closed
    }

    enum Action: Equatable {
        case none
        case connect
        /// The socket is up: write the setup commands (AUTH, SELECT, SCRIPT LOAD, PING) and start the timer.
        case sendSetup
        /// A socket finished connecting after `close()`: close it at once.
        case closeNewChannel
        /// Connecting failed: try again after the delay.
        case scheduleReconnect(Duration)
        /// The link failed: close it, fail every command awaiting a reply, reconnect after the delay.
        case dropLink(reconnectIn: Duration)
        /// `close()` while connected: close the socket and fail every command awaiting a reply as shut down.
        case closeLink
    }

    let initialDelay: Duration
    let maximumDelay: Duration
    private(set) var state: State = .idle
    /// Failed connects and dropped links since the link last proved itself (its setup was answered).
    private(set) var failures = 0

    init(initialDelay: Duration, maximumDelay: Duration) {
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
    }

    /// Whether commands may be written now.
    var acceptsCommands: Bool { state == .connected }

    mutating func start() -> Action {
        guard state == .idle else { return .none }
        state = .connecting
        return .connect
    }

    mutating func connectSucceeded() -> Action {
        guard state == .connecting else { return .closeNewChannel }
        state = .connected
        return .sendSetup
    }

    mutating func connectFailed() -> Action {
        guard state == .connecting else { return .none }
        state = .backingOff
        failures += 1
        return .scheduleReconnect(delay())
    }

    /// The setup commands were answered without error: the backoff starts from the beginning next time.
    mutating func setupSucceeded() {
        if state == .connected { failures = 0 }
    }

    /// The socket closed or errored, a reply was malformed or later than the timeout, or setup was refused.
    mutating func linkFailed() -> Action {
        guard state == .connected else { return .none }
        state = .backingOff
        failures += 1
        return .dropLink(reconnectIn: delay())
    }

    mutating func reconnectDue() -> Action {
        guard state == .backingOff else { return .none }
        state = .connecting
        return .connect
    }

    mutating func close() -> Action {
        let was = state
        state = .closed
        return was == .connected ? .closeLink : .none
    }

    /// `initial · 2^(failures − 1)`, capped at `maximum`.
    private func delay() -> Duration {
        var delay = initialDelay
        var step = 1
        while step < failures && delay < maximumDelay {
            delay *= 2
            step += 1
        }
        return min(delay, maximumDelay)
    }
}
