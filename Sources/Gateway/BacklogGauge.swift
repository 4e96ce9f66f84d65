import NIOCore
import Queue

/// Refreshes `docket_gateway_backlog` every interval with the sum of `XLEN` over every partition's events stream,
/// through loop 0's queue router: one XLEN per partition per interval, written together (skipped for a partition
/// while the link is down or its last one is unanswered); the gauge is the sum of each partition's last known length.
final class BacklogGauge {
    /// One partition's XLEN and its last answer.
    private final class Probe: QueueRequester {
        let command: BacklogCommand
        var awaitingReply = false
        var length = 0
        let answered: () -> Void
        lazy var caller = QueueCaller(self)

        init(command: BacklogCommand, answered: @escaping () -> Void) {
            self.command = command
            self.answered = answered
        }

        func writeCommand(into buffer: inout ByteBuffer) {
            command.write(into: &buffer)
        }

        func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>) {
            awaitingReply = false
            if case .success(let reply) = result, let length = reply.backlog {
                self.length = length
                answered()
            }
        }
    }

    private let loop: GatewayLoop
    private var probes: [Probe] = []
    private let interval: TimeAmount
    private var timer: Scheduled<Void>?
    private var stopped = false

    init(loop: GatewayLoop, partitions: [QueueKeys], interval: Duration) {
        self.loop = loop
        self.interval = TimeAmount(interval)
        let metrics = loop.process.metrics
        var probes: [Probe] = []
        for keys in partitions {
            // Weak: a reply may come after the gauge is gone (the link holds a probe while its XLEN is out).
            probes.append(Probe(command: BacklogCommand(keys: keys)) { [weak self] in
                guard let self else { return }
                metrics.backlog.record(self.probes.reduce(0) { $0 + $1.length })
            })
        }
        self.probes = probes
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
        for (partition, probe) in probes.enumerated() where !probe.awaitingReply {
            do {
                try loop.queue.send(probe.caller, partition: partition)
                probe.awaitingReply = true
            } catch {
                // Down or saturated: the gauge keeps this partition's last value until Redis answers again.
                continue
            }
        }
        schedule()
    }
}
