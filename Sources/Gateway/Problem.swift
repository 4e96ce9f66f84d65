import Model
import NIOCore
import NIOHTTP1
import Runtime

/// The gateway's error answers as RFC 9457 problem details (`application/problem+json`).
struct Problem: Sendable {
    var status: HTTPResponseStatus
    /// Last part of the `type` URI, `urn:docket:problem:<slug>`.
    var slug: String
    var title: String
    var detail: String
    /// Field errors of a 400 (the `errors` extension member).
    var errors: [FieldError] = []

    static func notFound(path: Substring) -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not Found", detail: "no route for \(path)")
    }

    static func methodNotAllowed(method: String, allowed: String) -> Problem {
        Problem(status: .methodNotAllowed, slug: "method-not-allowed", title: "Method Not Allowed",
                detail: "\(method) is not allowed here; use \(allowed)")
    }

    static let unsupportedMediaType = Problem(
        status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported Media Type",
        detail: "the body must be JSON: send Content-Type: application/json")

    static func tooLarge(limit: Int) -> Problem {
        Problem(status: .payloadTooLarge, slug: "content-too-large", title: "Content Too Large",
                detail: "the body is larger than \(limit) bytes")
    }

    static func unauthorized(_ reason: String) -> Problem {
        Problem(status: .unauthorized, slug: "invalid-signature", title: "Invalid Webhook Signature", detail: reason)
    }

    static func invalidPayload(_ errors: [FieldError]) -> Problem {
        Problem(status: .badRequest, slug: "invalid-payload", title: "Invalid Payload",
                detail: "the body is not a valid review verdict", errors: errors)
    }

    static let malformedRequest = Problem(
        status: .badRequest, slug: "malformed-request", title: "Bad Request",
        detail: "the request is not valid HTTP/1.1")

    static let overBacklog = Problem(
        status: .serviceUnavailable, slug: "backlog-full", title: "Service Unavailable",
        detail: "the event backlog is at its limit; retry later")

    static func replicasUnavailable(wanted: Int) -> Problem {
        Problem(
            status: .serviceUnavailable, slug: "replicas-unavailable", title: "Service Unavailable",
            detail: "fewer than \(wanted) Redis replica(s) acknowledged the event in time; retry later")
    }

    static let queueUnavailable = Problem(
        status: .serviceUnavailable, slug: "queue-unavailable", title: "Service Unavailable",
        detail: "the event queue is unreachable; retry later")

    /// The problem document as JSON.
    var json: ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 192)
        out.writeStaticString(#"{"type":"urn:docket:problem:"#)
        out.writeString(slug)
        out.writeStaticString(#"","title":"#)
        JSONString.write(title) { out.writeBytes($0) }
        out.writeStaticString(#","status":"#)
        out.writeString(String(status.code))
        out.writeStaticString(#","detail":"#)
        JSONString.write(detail) { out.writeBytes($0) }
        if !errors.isEmpty {
            out.writeStaticString(#","errors":["#)
            for (index, error) in errors.enumerated() {
                if index > 0 { out.writeInteger(UInt8(ascii: ",")) }
                out.writeStaticString(#"{"field":"#)
                JSONString.write(error.field) { out.writeBytes($0) }
                out.writeStaticString(#","reason":"#)
                JSONString.write(error.reason) { out.writeBytes($0) }
                out.writeInteger(UInt8(ascii: "}"))
            }
            out.writeInteger(UInt8(ascii: "]"))
        }
        out.writeInteger(UInt8(ascii: "}"))
        return out
    }

    /// The answer carrying this problem.
    func answer(outcome: GatewayOutcome, retryAfter: String? = nil, allow: String? = nil) -> GatewayAnswer {
        GatewayAnswer(
            status: status, outcome: outcome, contentType: "application/problem+json", body: json,
            retryAfter: retryAfter, allow: allow)
    }
}
