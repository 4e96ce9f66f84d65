public import Logging
public import NIOCore
import Redis
import RedisNIO

/// The queue on one SwiftNIO event loop: the gateway's hot path (docs/architecture.md, "Each process's job"). A Redis
/// connection that lives on the loop; a requester writes its command straight into the connection's outbound buffer
/// when asked and hears the reply on the loop, in order — no task, no thread hop, no allocation per command. Callers see
/// the queue's terms only (`QueueReply`, `QueueLinkFailure`, `QueueSendRefusal`), never RESP or Redis's errors.
public final class QueueLink {
    /// Where and how the link reaches Redis.
    public struct Configuration: Sendable {
        /// The server, or the cluster whose primaries each get a link (`QueueRouter`).
        public var endpoint: QueueEndpoint
        var redis: RedisConfiguration {
            get { endpoint.connectionTemplate }
            set { endpoint.connectionTemplate = newValue }
        }
        /// Commands awaiting replies; past it `send` refuses with `.overloaded`.
        public var maxPending: Int
        /// How often an idle link is PINGed (its readiness).
        public var pingInterval: Duration

        public init(endpoint: QueueEndpoint, connectTimeout: Duration, commandTimeout: Duration, maxPending: Int, pingInterval: Duration) {
            self.endpoint = endpoint
            self.maxPending = maxPending
            self.pingInterval = pingInterval
            redis.connectTimeout = connectTimeout
            redis.commandTimeout = commandTimeout
        }

        /// The URL with any password replaced by `***`, for logs.
        public var redactedURL: String { endpoint.redactedURL }

        /// Longest wait for a connection.
        public var connectTimeout: Duration {
            get { redis.connectTimeout }
            set { redis.connectTimeout = newValue }
        }

        /// Longest wait for a reply: past it the command fails with a `QueueLinkFailure` and the link reconnects.
        public var commandTimeout: Duration {
            get { redis.commandTimeout }
            set { redis.commandTimeout = newValue }
        }
    }

    let connection: RedisLoopConnection
    /// Up and answering; readable from any thread.
    public let status: QueueLinkStatus

    public var eventLoop: any EventLoop { connection.eventLoop }

    /// Commands sent and not yet answered.
    public var pendingCount: Int { connection.pendingCount }

    /// The link's coalesced replica waits, made on first use.
    private var replicaWaiter: ReplicaWaiter?

    /// Tells `listener` how many replicas hold every write this link made so far (one `WAIT` at a time, shared by every
    /// listener that joins before its answer: `ReplicaWaiter`). Call right after the listener's enqueue was answered.
    public func awaitReplicas(_ wait: ReplicaWait, listener: any ReplicaWaitListener) {
        let waiter: ReplicaWaiter
        if let existing = replicaWaiter {
            waiter = existing
        } else {
            waiter = ReplicaWaiter(wait: wait, link: self)
            replicaWaiter = waiter
        }
        waiter.add(listener)
    }

    /// Called on the loop when a reply says the cluster moved on (a redirect, `CLUSTERDOWN`, `TRYAGAIN`) or the link
    /// failed: the router asks for a fresh slot map.
    var onClusterTrouble: (() -> Void)?

    /// A link for `EnqueueCommand`s, `BacklogCommand`s and `ReplicaWait`s (the enqueue script is loaded at every
    /// connect), to the configuration's server, or to `node` of its cluster. Call on `eventLoop`; nothing connects until
    /// `start`.
    public convenience init(configuration: Configuration, eventLoop: any EventLoop, logger: Logger) {
        self.init(configuration: configuration, node: nil, eventLoop: eventLoop, logger: logger)
    }

    init(configuration: Configuration, node: ClusterNode?, eventLoop: any EventLoop, logger: Logger) {
        var redis = configuration.redis
        if let node {
            redis.host = node.host
            redis.port = node.port
        }
        connection = RedisLoopConnection(
            configuration: RedisLoopConnection.Configuration(
                redis: redis, maxPending: configuration.maxPending, pingInterval: configuration.pingInterval,
                scripts: [EnqueueCommand.script]),
            eventLoop: eventLoop, logger: logger)
        status = QueueLinkStatus(connection.status)
    }

    /// Connects, and reconnects with backoff whenever the link fails, until `close`.
    public func start() {
        connection.start()
    }

    /// Asks `caller`'s requester for its command now and answers it later, on the loop; refused (and never answered)
    /// while the link is down or `maxPending` commands await replies. One command at a time per caller.
    public func send(_ caller: QueueCaller) throws(QueueSendRefusal) {
        do {
            caller.relay.willSend(trouble: onClusterTrouble)
            try connection.send(caller.relay)
        } catch {
            caller.relay.refused()
            switch error {
            case .unavailable: throw .unavailable
            case .overloaded: throw .overloaded
            }
        }
    }

    /// Writes a command that changes nothing, for a requester asked for a command it no longer has: every send must
    /// write exactly one command, or replies stop matching their commands.
    public static func writeNoOp(into buffer: inout ByteBuffer) {
        buffer.writeRESPCommand("PING")
    }

    /// Fails what is pending (`QueueLinkFailure`) and closes the link for good.
    public func close() -> EventLoopFuture<Void> {
        connection.close()
    }
}

/// Whether a link is up and answering, readable from any thread (`/readyz`).
public final class QueueLinkStatus: Sendable {
    private let status: RedisLinkStatus

    init(_ status: RedisLinkStatus) {
        self.status = status
    }

    public var isReady: Bool { status.isReady }
}

/// One requester's handle on a link: make one per requester (a connection handler, the backlog gauge) and send it for
/// each of its commands, one at a time.
public struct QueueCaller {
    let relay: Relay

    public init(_ requester: any QueueRequester) {
        relay = Relay(requester)
    }

    /// Passes the link's calls to the requester. It holds the requester only while a command is out, so a requester
    /// that keeps its caller forms no lasting cycle, and one whose channel closed still hears its reply.
    final class Relay: RedisRequester {
        private weak var idle: (any QueueRequester)?
        private var pending: (any QueueRequester)?
        /// The cluster trouble hook of the link the command went out on, while it is out (nil off a cluster: nothing
        /// to hold on the hot path).
        private var trouble: (() -> Void)?

        init(_ requester: any QueueRequester) {
            idle = requester
        }

        func willSend(trouble: (() -> Void)? = nil) {
            assert(pending == nil, "one command at a time per QueueCaller")
            pending = idle
            self.trouble = trouble
        }

        func refused() {
            pending = nil
            trouble = nil
        }

        func writeCommand(into buffer: inout ByteBuffer) {
            (pending ?? idle)?.writeCommand(into: &buffer)
        }

        func redisReplied(_ result: Result<RESPValue, RedisError>) {
            if let trouble {
                self.trouble = nil
                switch result {
                case .success(.error(let message)) where ClusterRedirect(errorReply: message) != nil: trouble()
                case .failure: trouble()
                default: break
                }
            }
            guard let requester = pending else { return }
            pending = nil
            switch result {
            case .success(let value): requester.queueReplied(.success(QueueReply(value)))
            case .failure(let error): requester.queueReplied(.failure(QueueLinkFailure(description: error.description)))
            }
        }
    }
}

/// What sends commands over a `QueueLink`; called on the link's event loop.
public protocol QueueRequester: AnyObject {
    /// Appends the command (an `EnqueueCommand` or `BacklogCommand` write) to `buffer`. Called once per send, and
    /// again when the link resends it after reloading a script Redis had lost.
    func writeCommand(into buffer: inout ByteBuffer)

    /// The reply, or why none will come (the link failed, the reply was later than the command timeout, the link closed).
    func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>)
}

/// Redis's reply to one command, read in the queue's terms.
public struct QueueReply: Sendable {
    let value: RESPValue

    init(_ value: RESPValue) {
        self.value = value
    }

    /// The reply to an `EnqueueCommand`; nil for an error reply or anything else.
    public var enqueueOutcome: EnqueueOutcome? {
        try? EnqueueCommand.outcome(value)
    }

    /// The reply to a `BacklogCommand`.
    public var backlog: Int? {
        BacklogCommand.backlog(from: value)
    }

    /// The reply to a `ReplicaWait`: how many replicas acknowledged; nil for anything else.
    public var replicasAcknowledged: Int? {
        value.int
    }
}

/// No reply will come: the link failed, timed out or closed. Whether the command ran is unknown.
public struct QueueLinkFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Why `QueueLink.send` refused a command; its requester is not called back.
public enum QueueSendRefusal: Error, Sendable, Equatable {
    /// Not connected right now (connecting, backing off after a failure, or closed).
    case unavailable
    /// `maxPending` commands await replies.
    case overloaded
}
