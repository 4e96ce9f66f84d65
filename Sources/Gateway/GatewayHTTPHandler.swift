import Logging
import NIOCore
import NIOHTTP1
import Queue
import StandardWebhooks

/// One HTTP connection's handler, right behind NIO's HTTP/1.1 request decoder. It answers every request on its event
/// loop without a task or a thread hop: route on the head, collect the body, verify and validate in place, hand the
/// enqueue to the loop's Redis connection, answer from its reply. The decisions are `WebhookIntake`'s; this class keeps
/// the connection's state and moves bytes.
///
/// It is its own pipelining assistant and response encoder: requests that arrive while one awaits Redis are queued and
/// reading stops until it is answered (reading also stops while the socket cannot take more output), so answers go out
/// in request order and a client cannot make us buffer without bound; each answer is one pre-encoded buffer
/// (`HTTPResponseBytes`), one write. Once an answer says `connection: close` nothing more is read or answered, and the
/// connection closes only after everything written has gone out. A malformed request gets 400 and the connection
/// closes; on graceful shutdown (`ChannelShouldQuiesceEvent`) an idle connection closes at once and a busy one after
/// its answer.
///
/// At most one enqueue per connection awaits Redis. If the client goes away meanwhile, the reply still arrives (replies
/// are matched by order on the Redis connection) and is counted, but not written.
final class GatewayHTTPHandler: ChannelDuplexHandler, QueueRequester, ReplicaWaitListener {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests.
        case idle
        /// A webhook whose body is being collected.
        case receivingWebhook
        /// The answer is decided before the body (404, 405, 415, probes): the body is skipped, the answer sent at its end.
        case skippingBody(GatewayAnswer)
        /// The enqueue of this body is written; the answer waits for Redis, and later requests wait in `queued`.
        case awaitingRedis(body: ByteBuffer)
        /// Answered before the request ended (413): the rest of its body is dropped as it arrives, up to
        /// `maxDiscardedBytes` past the limit; beyond that the connection is closed.
        case answeredEarly
        /// An answer with `connection: close` is written (or the connection must end): nothing more is read or answered.
        case closing
    }

    /// Events that arrived while a request awaited Redis, handled in order once it is answered.
    private enum Queued {
        case part(HTTPServerRequestPart)
        case malformed
    }

    /// How much of a refused body is read and dropped to keep the connection usable, beyond the body limit.
    static let maxDiscardedBytes = 1 << 20

    private let loop: GatewayLoop
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// This handler's handle on the loop's queue link, made once and sent for each enqueue.
    private lazy var caller = QueueCaller(self)
    private var queued = CircularBuffer<Queued>(initialCapacity: 4)
    /// A `read` held back while a request awaits Redis or the socket is not writable.
    private var readPending = false
    /// Graceful shutdown asked this connection to close after the request in progress.
    private var quiescing = false
    /// The decoder failed: what it sends after that is noise.
    private var malformedSeen = false
    /// `resume` is running: a nested call (a queued webhook refused at once) leaves the work to it.
    private var resuming = false
    private var isActive = false
    /// The peer's address and whether it is a trusted proxy, read once per connection.
    private var peerAddress: String?
    private var peerTrusted = false

    // The request being handled.
    private var head: HTTPRequestHead?
    private var headers = RequestHeaders(HTTPHeaders())
    private var requestID = ""
    private var bodySize = 0
    private var body: ByteBuffer?
    private var webhookId = ""
    /// The partition `webhookId` goes to (`GatewayLoop.partitioning`).
    private var partition = 0
    private var webhookTimestamp = 0
    private var receivedAt = 0
    private var enqueueStarted = NIODeadline.uptimeNanoseconds(0)
    /// Set while the answered enqueue waits for its link's replica wait: whether it was a duplicate (nil otherwise).
    private var replicaWaitDuplicate: Bool?
    /// Where the enqueue went: its replica wait must follow on the same connection.
    private var replicaSender: (any ReplicaWaitSender)?

    init(loop: GatewayLoop) {
        self.loop = loop
    }

    /// The gateway's whole pipeline for one connection: NIO's request decoder, then this handler.
    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, loop: GatewayLoop) throws {
        // The decoder stops parsing after an upgrade or CONNECT request (those connections are closed after their
        // answer); the cap bounds what it could hold before that.
        let maximumBufferSize = max(1 << 20, 2 * loop.intake.maxBodyBytes)
        try pipeline.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes), maximumBufferSize: maximumBufferSize))
        try pipeline.addHandler(GatewayHTTPHandler(loop: loop))
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isActive = context.channel.isActive
        if isActive { readPeer(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        isActive = true
        readPeer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        queued.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = Self.unwrapInboundIn(data)
        if case .closing = state { return }
        if isBusy || !queued.isEmpty {
            queued.append(.part(part))
        } else {
            handle(part, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            malformedSeen = true
            // The decoder cannot go on after a parse error. Earlier requests still get their answers first.
            if isBusy || !queued.isEmpty {
                queued.append(.malformed)
            } else {
                refuseMalformed(context: context)
            }
            return
        }
        if malformedSeen, case ByteToMessageDecoderError.dataReceivedInErrorState = error {
            // Bytes after the parse error: the queued 400 closes the connection once earlier answers are out.
            return
        }
        closeAfterPendingWrites(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        // Requests not started yet are not answered: the client sees the connection close before any byte of theirs.
        queued.removeAll()
        if case .idle = state { closeAfterPendingWrites(context) }
    }

    func read(context: ChannelHandlerContext) {
        if case .closing = state { return }
        if isBusy || !context.channel.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeReading(context) }
        context.fireChannelWritabilityChanged()
    }

    private var isBusy: Bool {
        if case .awaitingRedis = state { return true }
        return false
    }

    // MARK: - Requests

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            requestStarted(head, context: context)
        case .body(let bytes):
            bodyReceived(bytes, context: context)
        case .end:
            requestEnded(context: context)
        }
    }

    private func requestStarted(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.head = head
        headers = RequestHeaders(head.headers)
        bodySize = 0
        body = nil
        requestID = requestID(supplied: headers.requestID)
        // HTTP/1.0 clients must ignore Expect; so do we.
        let expectsContinue = headers.expectsContinue && (head.version.major > 1 || head.version.minor >= 1)
        let route = WebhookIntake.route(method: head.method, uri: head.uri)
        var early: GatewayAnswer
        switch route {
        case .webhook:
            guard let refusal = loop.intake.admit(contentType: headers.contentType, contentLength: headers.contentLength)
            else {
                state = .receivingWebhook
                if expectsContinue {
                    context.writeAndFlush(Self.wrapOutboundOut(HTTPResponseBytes.continueResponse), promise: nil)
                }
                return
            }
            early = refusal
        case .probe(let probe):
            early = probeAnswer(probe, context: context)
        case .notFound, .methodNotAllowed:
            early = WebhookIntake.answer(for: route, method: head.method) ?? .queueUnavailable
        }
        if head.method == .CONNECT || headers.upgrade != nil {
            // The decoder reads nothing more after such a request: answer it and end the connection.
            early.closeConnection = true
        }
        if expectsContinue {
            // The client waits for 100 before sending its body: answer now and close, so that an unsent body cannot
            // be mistaken for the next request.
            early.closeConnection = true
            state = .answeredEarly
            respond(early, context: context)
        } else if early.outcome == .tooLarge || early.closeConnection {
            // Refused before reading a byte of the body; what is sent anyway is dropped as it arrives.
            state = .answeredEarly
            respond(early, context: context)
        } else {
            state = .skippingBody(early)
        }
    }

    private func bodyReceived(_ part: ByteBuffer, context: ChannelHandlerContext) {
        switch state {
        case .receivingWebhook:
            bodySize += part.readableBytes
            guard bodySize <= loop.intake.maxBodyBytes else {
                // A chunked body past the limit: answer now, drop the rest.
                body = nil
                state = .answeredEarly
                respond(.tooLarge(limit: loop.intake.maxBodyBytes), context: context)
                return
            }
            if body == nil {
                body = part
            } else {
                body?.writeImmutableBuffer(part)
            }
        case .skippingBody(let answer):
            bodySize += part.readableBytes
            if bodySize > loop.intake.maxBodyBytes {
                // No need to wait for the end of a body this large: answer now, drop the rest.
                state = .answeredEarly
                respond(answer, context: context)
            }
        case .answeredEarly:
            bodySize += part.readableBytes
            if bodySize > loop.intake.maxBodyBytes + Self.maxDiscardedBytes {
                // Not worth reading any further to keep one connection open.
                state = .closing
                closeAfterPendingWrites(context)
            }
        case .idle, .awaitingRedis, .closing:
            break
        }
    }

    private func requestEnded(context: ChannelHandlerContext) {
        switch state {
        case .receivingWebhook:
            verifyAndEnqueue(context: context)
        case .skippingBody(let answer):
            state = .idle
            respond(answer, context: context)
        case .answeredEarly:
            state = .idle
            if quiescing {
                state = .closing
                closeAfterPendingWrites(context)
            }
        case .idle, .awaitingRedis, .closing:
            break
        }
    }

    private func verifyAndEnqueue(context: ChannelHandlerContext) {
        let nowMilliseconds = UnixTime.nowMilliseconds()
        let headers = self.headers
        let body = self.body ?? ByteBuffer()
        self.body = nil
        let checked = body.withUnsafeReadableBytes { bytes in
            loop.intake.check(
                id: headers.webhookId,
                timestamp: headers.webhookTimestamp,
                signature: headers.webhookSignature,
                body: bytes,
                nowSeconds: nowMilliseconds / 1000)
        }
        switch checked {
        case .failure(let refusal):
            loop.logger.debug("Webhook refused", metadata: ["request_id": "\(requestID)", "reason": "\(refusal)"])
            state = .idle
            respond(refusal.answer, context: context)
        case .success(let verified):
            webhookId = verified.id
            partition = loop.partitioning.count == 1 ? 0 : loop.partitioning.partition(forWebhookId: verified.id)
            webhookTimestamp = verified.timestamp
            receivedAt = nowMilliseconds
            state = .awaitingRedis(body: body)
            enqueueStarted = .now()
            replicaWaitDuplicate = nil
            do {
                let sender = try loop.sender.submit(caller, partition: partition)
                // Kept only when a replica wait will follow: nothing more to hold per webhook otherwise.
                if loop.replicaWait != nil { replicaSender = sender }
            } catch {
                loop.logger.debug("Enqueue refused", metadata: [
                    "request_id": "\(requestID)", "webhook_id": "\(webhookId)", "reason": "\(error)",
                ])
                finishEnqueue(.queueUnavailable)
            }
        }
    }

    // MARK: - QueueRequester

    func writeCommand(into buffer: inout ByteBuffer) {
        guard case .awaitingRedis(let body) = state else {
            // Unreachable: the connection asks only while we await it. Still write one command, so that replies stay
            // matched to their commands on the connection.
            assertionFailure("asked for a command while not awaiting Redis")
            QueueLink.writeNoOp(into: &buffer)
            return
        }
        loop.enqueues[partition].write(webhookId: webhookId, timestamp: webhookTimestamp, receivedAt: receivedAt, body: body, into: &buffer)
    }

    func queueReplied(_ result: Result<QueueReply, QueueLinkFailure>) {
        guard case .awaitingRedis = state else { return }
        if let wait = loop.replicaWait, case .success(let reply) = result, let outcome = reply.enqueueOutcome, outcome != .overBacklog,
           let sender = replicaSender {
            // In Redis, not yet on enough replicas: wait for them on the connection that wrote it (a duplicate's enqueue
            // rewrote its dedupe key, so the wait covers the original write too).
            replicaWaitDuplicate = outcome == .duplicate
            sender.awaitReplicas(wait, listener: self)
            return
        }
        replicaSender = nil
        switch result {
        case .success:
            recordEnqueueDuration()
        case .failure(let error):
            loop.logger.debug("Enqueue failed", metadata: [
                "request_id": "\(requestID)", "webhook_id": "\(webhookId)", "error": "\(error)",
            ])
        }
        let allocator = context?.channel.allocator ?? ByteBufferAllocator()
        finishEnqueue(WebhookIntake.answer(forEnqueueReply: result, webhookId: webhookId, allocator: allocator))
    }

    // MARK: - ReplicaWaitListener

    /// The replica wait's answer: 202 once enough replicas hold the write; 503 + `Retry-After` otherwise
    /// (`replicas-unavailable` when too few acknowledged in time, `queue-unavailable` when the link gave no answer). The
    /// sender retries and dedupe absorbs the repeat.
    func replicasReplied(_ result: ReplicaWaitResult) {
        guard case .awaitingRedis = state, let duplicate = replicaWaitDuplicate else { return }
        replicaWaitDuplicate = nil
        replicaSender = nil
        let wanted = loop.replicaWait?.replicas ?? 0
        guard case .acknowledged(let count) = result, count >= wanted else {
            loop.logger.debug("Too few replicas acknowledged", metadata: [
                "request_id": "\(requestID)", "webhook_id": "\(webhookId)", "result": "\(result)",
            ])
            finishEnqueue(result == .failed ? .queueUnavailable : .replicasUnavailable(wanted: wanted))
            return
        }
        recordEnqueueDuration()
        let allocator = context?.channel.allocator ?? ByteBufferAllocator()
        finishEnqueue(.accepted(id: webhookId, duplicate: duplicate, allocator: allocator))
    }

    /// `docket_gateway_enqueue_seconds`: from the enqueue's send to the answer it was accepted on.
    private func recordEnqueueDuration() {
        loop.process.metrics.enqueueDuration.recordNanoseconds(
            Int64(NIODeadline.now().uptimeNanoseconds &- enqueueStarted.uptimeNanoseconds))
    }

    /// Answers the webhook that awaited Redis, then goes on with what queued up behind it.
    private func finishEnqueue(_ answer: GatewayAnswer) {
        state = .idle
        guard let context else {
            loop.process.metrics.count(answer.outcome)
            return
        }
        respond(answer, context: context)
        resume(context: context)
    }

    /// Handles queued events until one waits for Redis again, then lets reading continue. Not re-entered: a queued
    /// webhook refused at once (Redis down) comes back here through `finishEnqueue`, and the loop below goes on.
    private func resume(context: ChannelHandlerContext) {
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        while !isBusy, isActive, let next = queued.popFirst() {
            if case .closing = state {
                queued.removeAll()
                break
            }
            switch next {
            case .part(let part): handle(part, context: context)
            case .malformed: refuseMalformed(context: context)
            }
        }
        resumeReading(context)
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        if case .closing = state { return }
        if readPending && !isBusy && context.channel.isWritable {
            readPending = false
            context.read()
        }
    }

    private func refuseMalformed(context: ChannelHandlerContext) {
        queued.removeAll()
        let answeredEarly = if case .answeredEarly = state { true } else { false }
        guard isActive, !answeredEarly else {
            // The current request was answered already (413 before its end): no second answer, just close.
            state = .closing
            closeAfterPendingWrites(context)
            return
        }
        // No head was parsed for this one: answer as HTTP/1.1, with a fresh request id.
        head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "-")
        requestID = loop.requestIDs.make()
        state = .idle
        respond(.malformedRequest, context: context)
    }

    // MARK: - Answers

    private func probeAnswer(_ probe: WebhookIntake.Probe, context: ChannelHandlerContext) -> GatewayAnswer {
        switch probe {
        case .live:
            return .alive
        case .ready:
            switch loop.process.readiness {
            case .ready: return .ready
            case .notReady: return .notReady
            case .shuttingDown: return .shuttingDown
            }
        case .metrics:
            let text = loop.process.exposition()
            var body = context.channel.allocator.buffer(capacity: text.count)
            body.writeBytes(text)
            return GatewayAnswer(status: .ok, outcome: .probe, contentType: "text/plain; version=0.0.4", body: body)
        }
    }

    /// Counts the answer and writes it as one buffer, unless the client is gone. When the answer or the request asks
    /// for it, or graceful shutdown is under way, the connection stops reading and closes once the answer is out.
    private func respond(_ answer: GatewayAnswer, context: ChannelHandlerContext) {
        loop.process.metrics.count(answer.outcome)
        logAnswer(answer)
        guard isActive, let head else { return }
        let keepAlive = head.isKeepAlive && !answer.closeConnection && !quiescing
        var bytes = context.channel.allocator.buffer(capacity: 192 + answer.body.readableBytes)
        HTTPResponseBytes.write(
            answer, version: head.version, requestID: requestID, keepAlive: keepAlive, includeBody: head.method != .HEAD,
            into: &bytes)
        if keepAlive {
            context.writeAndFlush(Self.wrapOutboundOut(bytes), promise: nil)
        } else {
            state = .closing
            queued.removeAll()
            context.writeAndFlush(Self.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// Closes once every answer already written has gone out (closing at once would cut them off).
    private func closeAfterPendingWrites(_ context: ChannelHandlerContext) {
        state = .closing
        queued.removeAll()
        guard isActive else { return }
        // Writes complete in order: when this empty one is done, so are the answers before it.
        context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)))
            .assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
    }

    /// The access log line (debug): method, path, status, outcome, client as far as trusted proxies let us see.
    private func logAnswer(_ answer: GatewayAnswer) {
        guard answer.outcome != .probe, loop.logger.logLevel <= .debug, let head else { return }
        let client = loop.proxies.clientAddress(
            peer: peerAddress,
            forwardedFor: head.headers.first(name: "x-forwarded-for"),
            forwarded: head.headers.first(name: "forwarded"))
        loop.logger.debug("Request answered", metadata: [
            "request_id": "\(requestID)",
            "client": "\(client ?? "-")",
            "method": "\(head.method.rawValue)",
            "path": "\(head.uri)",
            "status": "\(answer.status.code)",
            "outcome": "\(answer.outcome.label)",
        ])
    }

    // MARK: - Peer

    private func readPeer(_ context: ChannelHandlerContext) {
        peerAddress = context.channel.remoteAddress?.ipAddress
        peerTrusted = loop.proxies.isTrusted(peerAddress)
    }

    /// A trusted proxy's `X-Request-ID` when it is sane, otherwise a fresh one.
    private func requestID(supplied: String?) -> String {
        if peerTrusted, let supplied, RequestIDGenerator.isAcceptable(supplied) {
            return supplied
        }
        return loop.requestIDs.make()
    }
}
