import NIOCore
import Synchronization

/// The gateway's open HTTP connections, so graceful shutdown can ask each to finish its request and close
/// (`ChannelShouldQuiesceEvent`, which NIO's pipelining handler honours) and wait until all have.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
    }

    private let state = Mutex(State())

    /// Registers a new connection; one that arrives after quiescing began is closed at once (it has sent nothing yet
    /// that we read, so closing it answers nothing half-way).
    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.quiescing else { return false }
            state.channels[id] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { _ = $0.channels.removeValue(forKey: id) }
        }
    }

    /// Asks every connection to close once its current request is answered, and waits until all are closed; whatever
    /// is still open after `gracePeriod` (a client that never finishes its request or never reads) is closed then.
    func quiesce(on eventLoop: any EventLoop, gracePeriod: TimeAmount) async {
        let channels = state.withLock { state in
            state.quiescing = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = eventLoop.scheduleTask(in: gracePeriod) { [self] in closeAll() }
        try? await EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: eventLoop).get()
        deadline.cancel()
    }

    /// Closes every connection now (cancellation: no more waiting).
    func closeAll() {
        let channels = state.withLock { state in
            state.quiescing = true
            return Array(state.channels.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    var count: Int { state.withLock { $0.channels.count } }
}
