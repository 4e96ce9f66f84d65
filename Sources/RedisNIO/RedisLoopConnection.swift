public import Logging
public import NIOCore
import NIOPosix
public import Redis

/// One Redis connection that lives on one event loop, for callers on that same loop: commands are written into one
/// buffer and flushed once per loop tick (everything asked for in one wake-up goes out in one write), replies are
/// decoded by hiredis's reader and handed back in order. Nothing here blocks, hops threads or allocates a task per
/// command.
///
/// Failure is loud and quick: a closed socket, a malformed reply or a reply later than `commandTimeout` fails every
/// command awaiting a reply with `.connection`, and the link reconnects with capped exponential backoff. While it is
/// down, or while `maxPending` commands await replies, `send` refuses at once, so callers can answer "retry later"
/// instead of queueing without bound.
///
/// Confined to `eventLoop`: create it, use it and close it there.
public final class RedisLoopConnection {
    public struct Configuration: Sendable {
        /// Address, credentials and database; `connectTimeout` bounds a connect, `commandTimeout` a reply.
        public var redis: RedisConfiguration
        /// Most requesters' commands awaiting replies at once; past it `send` refuses with `.overloaded`. (The link's own
        /// setup and PING commands, at most a few, are not counted.)
        public var maxPending: Int
        /// First reconnect delay; it doubles per consecutive failure up to `reconnectMaximumDelay`.
        public var reconnectInitialDelay: Duration
        public var reconnectMaximumDelay: Duration
        /// How often an idle link is PINGed, so a dead server is noticed without traffic.
        public var pingInterval: Duration
        /// Scripts loaded at every connect and reloaded when a reply says `NOSCRIPT` (after which the command is resent).
        public var scripts: [RedisScript]

        public init(
            redis: RedisConfiguration,
            maxPending: Int = 4096,
            reconnectInitialDelay: Duration = .milliseconds(50),
            reconnectMaximumDelay: Duration = .seconds(1),
            pingInterval: Duration = .milliseconds(500),
            scripts: [RedisScript] = []
        ) {
            self.redis = redis
            self.maxPending = max(1, maxPending)
            self.reconnectInitialDelay = reconnectInitialDelay
            self.reconnectMaximumDelay = reconnectMaximumDelay
            self.pingInterval = pingInterval
            self.scripts = scripts
        }
    }

    /// How often a link is NOSCRIPT-resent before the error reply goes to the requester (a script flushed again
    /// between the reload and the resend, repeatedly, is not worth chasing).
    static let maxResends = 3

    private struct PendingCommand {
        enum Kind {
            case request(any RedisRequester, resends: Int)
            /// AUTH, SELECT or SCRIPT LOAD at connect; `last` marks the PING that completes setup.
            case setup(last: Bool)
            case scriptReload(last: Bool)
            case ping
        }

        var kind: Kind
        var sentAt: NIODeadline
    }

    public let eventLoop: any EventLoop
    public let configuration: Configuration
    /// Readiness, readable from any thread.
    public let status = RedisLinkStatus()

    private let logger: Logger
    private var machine: RedisLinkStateMachine
    private var channel: (any Channel)?
    /// Tells replies and closures of an old socket from the current one's.
    private var epoch = 0
    private var parser: RESPReplyParser?
    private var pending = CircularBuffer<PendingCommand>(initialCapacity: 256)
    /// Requesters' commands in `pending` (what `maxPending` bounds).
    private var requestsPending = 0
    private var output: ByteBuffer
    private var flushScheduled = false
    private var scriptsReloading = false
    private var pingOutstanding = false
    private var lastPing = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// Logged once per outage, not once per reconnect attempt.
    private var reportedDown = false

    public init(configuration: Configuration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        var logger = logger
        logger[metadataKey: "redis"] = "\(configuration.redis.host):\(configuration.redis.port)"
        self.logger = logger
        self.machine = RedisLinkStateMachine(
            initialDelay: configuration.reconnectInitialDelay, maximumDelay: configuration.reconnectMaximumDelay)
        self.output = ByteBufferAllocator().buffer(capacity: 4096)
    }

    /// Requesters' commands written and not yet answered.
    public var pendingCount: Int { requestsPending }

    /// Starts connecting; commands are accepted once the socket is up.
    public func start() {
        eventLoop.preconditionInEventLoop()
        perform(machine.start())
    }

    /// Writes `requester`'s command (flushed at the end of this loop tick); its reply comes to `redisReplied`.
    /// Throws, without calling the requester, when the link is down or `maxPending` replies are outstanding.
    public func send(_ requester: any RedisRequester) throws(RedisSendRefusal) {
        eventLoop.assertInEventLoop()
        guard machine.acceptsCommands else { throw .unavailable }
        guard requestsPending < configuration.maxPending else { throw .overloaded }
        requester.writeCommand(into: &output)
        pending.append(PendingCommand(kind: .request(requester, resends: 0), sentAt: .now()))
        requestsPending += 1
        scheduleFlush()
    }

    /// Closes the link for good: commands awaiting replies fail with `.shutdown`, later sends are refused.
    /// The future completes when the socket is closed.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        let closing = channel
        perform(machine.close())
        // Not connected (connecting or backing off): no link to drop, but no timer may fire any more either.
        timer?.cancel()
        timer = nil
        return closing?.closeFuture ?? eventLoop.makeSucceededVoidFuture()
    }

    // MARK: - Events from the channel

    func received(_ buffer: ByteBuffer, epoch: Int) {
        guard epoch == self.epoch, let parser else { return }
        do {
            try parser.feed(buffer)
            // A reply handler may fail or close the link: stop as soon as this parser is no longer current.
            while self.parser === parser, let reply = try parser.next() {
                dispatch(reply)
            }
        } catch {
            linkFailed(error)
        }
    }

    func channelClosed(epoch: Int, error: (any Error)?) {
        guard epoch == self.epoch, channel != nil else { return }
        let message = error.map { "connection lost: \($0)" } ?? "connection closed by the server"
        linkFailed(RedisError(code: .connection, message: "\(address): \(message)"))
    }

    // MARK: - Internals

    private var address: String { "\(configuration.redis.host):\(configuration.redis.port)" }

    private func perform(_ action: RedisLinkStateMachine.Action) {
        switch action {
        case .none:
            break
        case .connect:
            connect()
        case .sendSetup, .closeNewChannel:
            // Handled where the new channel is at hand (connectCompleted).
            break
        case .scheduleReconnect(let delay):
            scheduleReconnect(after: delay)
        case .dropLink:
            // Only `linkFailed` is given this action, and it carries it out with the error at hand.
            break
        case .closeLink:
            dropLink(RedisError(code: .shutdown, message: "\(address): connection closed"))
        }
    }

    private func connect() {
        epoch += 1
        let epoch = self.epoch
        let connection = NIOLoopBound(self, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.redis.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RedisReplyHandler(connection: connection.value, epoch: epoch))
                }
            }
        bootstrap.connect(host: configuration.redis.host, port: configuration.redis.port)
            .assumeIsolated()
            .whenComplete { result in
                self.connectCompleted(result, epoch: epoch)
            }
    }

    private func connectCompleted(_ result: Result<any Channel, any Error>, epoch: Int) {
        guard epoch == self.epoch else {
            if case .success(let stale) = result { stale.close(promise: nil) }
            return
        }
        switch result {
        case .success(let newChannel):
            switch machine.connectSucceeded() {
            case .sendSetup:
                guard let parser = RESPReplyParser() else {
                    newChannel.close(promise: nil)
                    linkFailed(RedisError(code: .connection, message: "\(address): cannot allocate a reply reader"))
                    return
                }
                channel = newChannel
                self.parser = parser
                output.clear()
                writeSetup()
                scheduleTimer()
            default:
                newChannel.close(promise: nil)
            }
        case .failure(let error):
            let action = machine.connectFailed()
            reportDown(RedisError(code: .connection, message: "\(address): \(error)"))
            perform(action)
        }
    }

    private func writeSetup() {
        let now = NIODeadline.now()
        let redis = configuration.redis
        if let password = redis.password {
            output.writeRESPArrayHeader(count: redis.username == nil ? 2 : 3)
            output.writeRESPBulkString("AUTH")
            if let username = redis.username { output.writeRESPBulkString(username) }
            output.writeRESPBulkString(password)
            pending.append(PendingCommand(kind: .setup(last: false), sentAt: now))
        }
        if redis.database != 0 {
            output.writeRESPCommand("SELECT", String(redis.database))
            pending.append(PendingCommand(kind: .setup(last: false), sentAt: now))
        }
        for script in configuration.scripts {
            output.writeRESPCommand("SCRIPT", "LOAD", script.source)
            pending.append(PendingCommand(kind: .setup(last: false), sentAt: now))
        }
        output.writeRESPCommand("PING")
        pending.append(PendingCommand(kind: .setup(last: true), sentAt: now))
        lastPing = now
        scheduleFlush()
    }

    private func dispatch(_ reply: RESPValue) {
        guard let command = pending.popFirst() else {
            linkFailed(RedisError(code: .protocol, message: "\(address): a reply arrived for no command"))
            return
        }
        switch command.kind {
        case .request(let requester, let resends):
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT"), !configuration.scripts.isEmpty,
               resends < Self.maxResends {
                // The server lost its script cache (SCRIPT FLUSH, a restart behind a proxy): load the scripts again,
                // then resend. Both go out in order on this link, so the resend runs after the load.
                reloadScripts()
                requester.writeCommand(into: &output)
                pending.append(PendingCommand(kind: .request(requester, resends: resends + 1), sentAt: .now()))
                scheduleFlush()
                return
            }
            requestsPending -= 1
            requester.redisReplied(.success(reply))
        case .setup(let last):
            if case .error(let message) = reply {
                logger.error("Redis refused the connection setup", metadata: ["error": "\(message)"])
                linkFailed(RedisError(code: .connection, message: "\(address): setup refused: \(message)"))
                return
            }
            if last { setupCompleted() }
        case .scriptReload(let last):
            if last { scriptsReloading = false }
            if case .error(let message) = reply {
                logger.warning("Redis refused SCRIPT LOAD", metadata: ["error": "\(message)"])
            }
        case .ping:
            pingOutstanding = false
        }
    }

    private func setupCompleted() {
        machine.setupSucceeded()
        reportedDown = false
        if !status.exchange(true) {
            logger.info("Redis reachable")
        }
    }

    private func reloadScripts() {
        guard !scriptsReloading else { return }
        scriptsReloading = true
        let now = NIODeadline.now()
        for (index, script) in configuration.scripts.enumerated() {
            output.writeRESPCommand("SCRIPT", "LOAD", script.source)
            pending.append(PendingCommand(kind: .scriptReload(last: index == configuration.scripts.count - 1), sentAt: now))
        }
    }

    private func linkFailed(_ error: any Error) {
        let action = machine.linkFailed()
        guard case .dropLink(let delay) = action else { return }
        let redisError = error as? RedisError ?? RedisError(code: .connection, message: "\(address): \(error)")
        reportDown(redisError)
        dropLink(redisError)
        scheduleReconnect(after: delay)
    }

    /// Closes the socket and fails everything awaiting a reply. Sends made from inside the failure callbacks are
    /// refused (the machine no longer accepts commands), so they fail fast too.
    private func dropLink(_ error: RedisError) {
        let dropped = channel
        channel = nil
        parser = nil
        timer?.cancel()
        timer = nil
        output.clear()
        _ = status.exchange(false)
        dropped?.close(promise: nil)
        failAll(error)
    }

    private func failAll(_ error: RedisError) {
        scriptsReloading = false
        pingOutstanding = false
        while let command = pending.popFirst() {
            if case .request(let requester, _) = command.kind {
                requestsPending -= 1
                requester.redisReplied(.failure(error))
            }
        }
    }

    private func reportDown(_ error: RedisError) {
        _ = status.exchange(false)
        if reportedDown {
            logger.debug("Redis still unreachable", metadata: ["error": "\(error.message)"])
        } else {
            reportedDown = true
            logger.warning("Redis unreachable: answering 503 until it is back", metadata: ["error": "\(error.message)"])
        }
    }

    private func scheduleReconnect(after delay: Duration) {
        eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            self.perform(self.machine.reconnectDue())
        }
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        // Runs after the I/O of this loop tick: every command asked for in it shares one write.
        eventLoop.assumeIsolatedUnsafeUnchecked().execute {
            self.flush()
        }
    }

    private func flush() {
        flushScheduled = false
        guard let channel, output.readableBytes > 0 else { return }
        // Sized for a tick like this one, within bounds: one burst of large bodies must not pin a huge buffer.
        let capacity = min(max(4096, output.readableBytes), 1 << 16)
        channel.writeAndFlush(output, promise: nil)
        output = channel.allocator.buffer(capacity: capacity)
    }

    /// One timer per link checks the oldest reply's age and keeps an idle link PINGed.
    private func scheduleTimer() {
        let interval = min(configuration.pingInterval, configuration.redis.commandTimeout / 4, .milliseconds(100))
        timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(max(interval, .milliseconds(1)))) {
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        guard machine.state == .connected else { return }
        let now = NIODeadline.now()
        let timeout = TimeAmount(configuration.redis.commandTimeout)
        if let oldest = pending.first, now - oldest.sentAt > timeout {
            linkFailed(RedisError(
                code: .connection, message: "\(address): no reply within \(configuration.redis.commandTimeout)"))
            return
        }
        let pingEvery = TimeAmount(configuration.pingInterval)
        if !pingOutstanding && now - lastPing >= pingEvery {
            pingOutstanding = true
            lastPing = now
            output.writeRESPCommand("PING")
            pending.append(PendingCommand(kind: .ping, sentAt: now))
            scheduleFlush()
        }
        scheduleTimer()
    }
}
