import NIOCore
import NIOHTTP1
import Runtime

/// One answer the gateway gives, before it is written: status, what it counts as, and its body. Fixed answers are
/// built once (`static let`) and written as the same bytes every time.
struct GatewayAnswer {
    var status: HTTPResponseStatus
    var outcome: GatewayOutcome
    var contentType: String
    var body: ByteBuffer
    /// `Retry-After` seconds on a 503.
    var retryAfter: String?
    /// `Allow` on a 405.
    var allow: String?
    /// Probe answers must never be cached by a proxy.
    var noStore = false
    /// Close the connection after this answer (e.g. a refused `Expect: 100-continue`, whose body never comes).
    var closeConnection = false

    /// Seconds a sender should wait after a 503: Redis usually comes back (or reconnects) quickly, a full backlog
    /// drains slower.
    static let retryAfterUnavailable = "1"
    static let retryAfterBacklog = "5"

    static let queueUnavailable = Problem.queueUnavailable.answer(outcome: .redisUnavailable, retryAfter: retryAfterUnavailable)
    static let overBacklog = Problem.overBacklog.answer(outcome: .overBacklog, retryAfter: retryAfterBacklog)

    /// Fewer than `DOCKET_REDIS_MIN_REPLICAS` replicas acknowledged the write in time.
    static func replicasUnavailable(wanted: Int) -> GatewayAnswer {
        Problem.replicasUnavailable(wanted: wanted).answer(outcome: .replicasUnavailable, retryAfter: retryAfterUnavailable)
    }
    static let unsupportedMediaType = Problem.unsupportedMediaType.answer(outcome: .unsupportedMediaType)
    static let malformedRequest: GatewayAnswer = {
        var answer = Problem.malformedRequest.answer(outcome: .malformedRequest)
        answer.closeConnection = true
        return answer
    }()

    static func tooLarge(limit: Int) -> GatewayAnswer {
        Problem.tooLarge(limit: limit).answer(outcome: .tooLarge)
    }

    /// `202 {"id":"<webhook-id>"}`.
    static func accepted(id: String, duplicate: Bool, allocator: ByteBufferAllocator) -> GatewayAnswer {
        var body = allocator.buffer(capacity: id.utf8.count + 12)
        body.writeStaticString(#"{"id":"#)
        JSONString.write(id) { body.writeBytes($0) }
        body.writeInteger(UInt8(ascii: "}"))
        return GatewayAnswer(
            status: .accepted, outcome: duplicate ? .duplicate : .accepted, contentType: "application/json", body: body)
    }

    /// A plain-text probe answer (`/livez`, `/readyz`).
    static func probe(_ status: HTTPResponseStatus, _ text: StaticString) -> GatewayAnswer {
        var body = ByteBufferAllocator().buffer(capacity: text.utf8CodeUnitCount)
        body.writeStaticString(text)
        return GatewayAnswer(
            status: status, outcome: .probe, contentType: "text/plain; charset=utf-8", body: body, noStore: true)
    }

    static let alive = probe(.ok, "ok\n")
    static let ready = probe(.ok, "ok\n")
    static let notReady = probe(.serviceUnavailable, "not ready\n")
    static let shuttingDown = probe(.serviceUnavailable, "shutting down\n")
}
