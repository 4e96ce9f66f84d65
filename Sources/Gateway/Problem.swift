import Hummingbird
import Model

/// The gateway's error answers as RFC 9457 problem details (`application/problem+json`).
struct Problem: Sendable {
    var status: HTTPResponse.Status
    /// Last part of the `type` URI, `urn:docket:problem:<slug>`.
    var slug: String
    var title: String
    var detail: String
    /// Field errors of a 400 (the `errors` extension member).
    var errors: [FieldError] = []

    static func notFound(path: String) -> Problem {
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
        Problem(status: .contentTooLarge, slug: "content-too-large", title: "Content Too Large",
                detail: "the body is larger than \(limit) bytes")
    }

    static func unauthorized(_ reason: String) -> Problem {
        Problem(status: .unauthorized, slug: "invalid-signature", title: "Invalid Webhook Signature", detail: reason)
    }

    static func invalidPayload(_ errors: [FieldError]) -> Problem {
        Problem(status: .badRequest, slug: "invalid-payload", title: "Invalid Payload",
                detail: "the body is not a valid review verdict", errors: errors)
    }

    static let overBacklog = Problem(
        status: .serviceUnavailable, slug: "backlog-full", title: "Service Unavailable",
        detail: "the event backlog is at its limit; retry later")

    static let queueUnavailable = Problem(
        status: .serviceUnavailable, slug: "queue-unavailable", title: "Service Unavailable",
        detail: "the event queue is unreachable; retry later")

    /// The problem document as JSON bytes.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(192)
        out += Array(#"{"type":"urn:docket:problem:"#.utf8)
        out += Array(slug.utf8)
        out += Array(#"","title":"#.utf8)
        JSONText.appendString(title, to: &out)
        out += Array(#","status":"#.utf8)
        out += Array(String(status.code).utf8)
        out += Array(#","detail":"#.utf8)
        JSONText.appendString(detail, to: &out)
        if !errors.isEmpty {
            out += Array(#","errors":["#.utf8)
            for (index, error) in errors.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(#"{"field":"#.utf8)
                JSONText.appendString(error.field, to: &out)
                out += Array(#","reason":"#.utf8)
                JSONText.appendString(error.reason, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The full response; `headers` adds e.g. `Allow`, `Retry-After`, `X-Request-ID`.
    func response(headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }
}
