import NIOCore
import Queue

/// Refreshes `docket_gateway_backlog` from `XLEN {PREFIX}:events` every interval, through loop 0's Redis connection
/// (one command per interval, skipped while the link is down or the last one is unanswered).
final class BacklogGauge: QueueRequester {
    private let loop: GatewayLoop
    private let command: BacklogCommand
    private let interval: TimeAmount
    private var awaitingReply = false
    private var timer: Scheduled<Void>?
    private var stopped = false
    private lazy var caller = QueueCaller(self)

    init(loop: GatewayLoop, keys: QueueKeys, interval: Duration) {
        self.loop = loop
        self.command = BacklogCommand(keys: keys)
        self.interval = TimeAmount(interval)
    }

    /// Starts the refresh loop; call on the loop's event loop.
    func start() {
        schedule()
    }

    func stop() {
        stopped = true
        timer?.cancel()
        timer = nil
    }

    private func schedule() {
        guard !stopped else { return }
        timer = loop.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.refresh()
        }
    }

    private func refresh() {
        if !awaitingReply {
            do {
                try loop.queue.send(caller)
                awaitingReply = true
            } catch {
                // Down or saturated: the gauge keeps its last value until Redis answers again.
            }
        }
        schedule()
    }

    func writeCommand(into buffer: inout ByteBuffer) {
        command.write(into: &buffer)
    }

    func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>) {
        awaitingReply = false
        if case .success(let reply) = result, let length = reply.backlog {
            loop.process.metrics.backlog.record(length)
        }
    }
}
