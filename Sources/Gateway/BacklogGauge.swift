import NIOCore
import Queue
import Redis
import RedisNIO

/// Refreshes `docket_gateway_backlog` from `XLEN {PREFIX}:events` every interval, through loop 0's Redis connection
/// (one command per interval, skipped while the link is down or the last one is unanswered).
final class BacklogGauge: RedisRequester {
    private let loop: GatewayLoop
    private let command: BacklogCommand
    private let interval: TimeAmount
    private var awaitingReply = false
    private var timer: Scheduled<Void>?
    private var stopped = false

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
                try loop.redis.send(self)
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

    func redisReplied(_ result: Result<RESPValue, RedisError>) {
        awaitingReply = false
        if case .success(let reply) = result, let length = BacklogCommand.backlog(from: reply) {
            loop.process.metrics.backlog.record(length)
        }
    }
}
