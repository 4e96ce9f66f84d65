import NIOCore
import Queue

/// Refreshes `docket_gateway_backlog` from `XLEN` of the events streams every interval, through loop 0's Redis
/// connection: one command per interval (skipped while the link is down or the last one is unanswered), one partition
/// after another; the gauge is the sum of each partition's last known length.
final class BacklogGauge: QueueRequester {
    private let loop: GatewayLoop
    private let commands: [BacklogCommand]
    private var lengths: [Int]
    private var next = 0
    private var asked = 0
    private let interval: TimeAmount
    private var awaitingReply = false
    private var timer: Scheduled<Void>?
    private var stopped = false
    private lazy var caller = QueueCaller(self)

    init(loop: GatewayLoop, partitions: [QueueKeys], interval: Duration) {
        self.loop = loop
        self.commands = partitions.map { BacklogCommand(keys: $0) }
        self.lengths = Array(repeating: 0, count: partitions.count)
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
                asked = next
                try loop.queue.send(caller)
                awaitingReply = true
                next = (next + 1) % commands.count
            } catch {
                // Down or saturated: the gauge keeps its last value until Redis answers again.
            }
        }
        schedule()
    }

    func writeCommand(into buffer: inout ByteBuffer) {
        commands[asked].write(into: &buffer)
    }

    func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>) {
        awaitingReply = false
        if case .success(let reply) = result, let length = reply.backlog {
            lengths[asked] = length
            loop.process.metrics.backlog.record(lengths.reduce(0, +))
        }
    }
}
