public import NIOCore
import RedisNIO

/// `WAIT numreplicas timeout` as an event-loop connection writes it (docs/reference.md §4, "What a 202 means"): sent
/// after enqueues on the same connection (`ReplicaWaiter`), it returns once `replicas` replicas acknowledged every
/// write that connection made, or after `timeoutMilliseconds` with how many did.
public struct ReplicaWait: Sendable {
    public let replicas: Int
    public let timeoutMilliseconds: Int
    private let bytes: [UInt8]

    public init(replicas: Int, timeoutMilliseconds: Int) {
        self.replicas = replicas
        self.timeoutMilliseconds = timeoutMilliseconds
        var buffer = ByteBuffer()
        buffer.writeRESPCommand("WAIT", String(replicas), String(timeoutMilliseconds))
        bytes = Array(buffer.readableBytesView)
    }

    public func write(into buffer: inout ByteBuffer) {
        buffer.writeBytes(bytes)
    }

}

/// How a replica wait ended for one listener.
public enum ReplicaWaitResult: Sendable, Equatable {
    /// `WAIT` answered: this many replicas hold every write the connection made before it.
    case acknowledged(Int)
    /// No answer will come (the link failed, timed out, closed, or refused the `WAIT`): nothing is known.
    case failed
}

/// What waits for replicas after its enqueue was answered; called on the link's event loop.
public protocol ReplicaWaitListener: AnyObject {
    func replicasReplied(_ result: ReplicaWaitResult)
}

/// One link's replica waits, coalesced: at most one `WAIT` is out at a time, and its answer goes to every listener that
/// joined before it came back. That is sound because replies come in order on one connection: a listener joins when its
/// enqueue's reply arrives, so its enqueue was written before any `WAIT` whose reply is still to come, and `WAIT` covers
/// every write the connection made before it. One `WAIT` out at a time also keeps an unsatisfiable one (no replica
/// attached) from stacking timeouts behind each other on the connection. Confined to the link's event loop.
final class ReplicaWaiter: QueueRequester {
    private let wait: ReplicaWait
    private weak var link: QueueLink?
    private var listeners: [any ReplicaWaitListener] = []
    private var outstanding = false
    private lazy var caller = QueueCaller(self)

    init(wait: ReplicaWait, link: QueueLink) {
        self.wait = wait
        self.link = link
    }

    func add(_ listener: any ReplicaWaitListener) {
        listeners.append(listener)
        guard !outstanding else { return }
        guard let link else {
            answer(.failed)
            return
        }
        do {
            outstanding = true
            try link.send(caller)
        } catch {
            outstanding = false
            answer(.failed)
        }
    }

    func writeCommand(into buffer: inout ByteBuffer) {
        wait.write(into: &buffer)
    }

    func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>) {
        outstanding = false
        switch result {
        case .success(let reply):
            answer(reply.replicasAcknowledged.map(ReplicaWaitResult.acknowledged) ?? .failed)
        case .failure:
            answer(.failed)
        }
    }

    private func answer(_ result: ReplicaWaitResult) {
        let answered = listeners
        listeners.removeAll(keepingCapacity: true)
        for listener in answered { listener.replicasReplied(result) }
    }
}
