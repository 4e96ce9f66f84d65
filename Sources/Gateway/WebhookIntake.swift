import Model
import NIOCore
import NIOHTTP1
import Queue
import StandardWebhooks

/// The gateway's decisions, without I/O (docs/reference.md §4): which route a head takes, whether a webhook is
/// admitted, verified and valid, and which answer Redis's reply to the enqueue means. Checks run in the contract's
/// order: path and method, content type, size, signature, payload. A 202 is built only from Redis's answer.
struct WebhookIntake {
    /// Where a request goes, decided from its head alone.
    enum Route: Equatable {
        case webhook
        case probe(Probe)
        case notFound(path: Substring)
        case methodNotAllowed(allowed: String)
    }

    enum Probe: Equatable {
        case live
        case ready
        case metrics
    }

    /// The webhook path.
    static let webhookPath = "/document/update"

    let verifier: KeyedWebhookVerifier
    let maxBodyBytes: Int

    /// The route for `method` and `uri` (query string ignored; paths match exactly; an absolute-form target such as
    /// `http://host/document/update` is routed by its path, as RFC 9112 asks of servers).
    static func route(method: HTTPMethod, uri: String) -> Route {
        var target = uri[...]
        if !target.hasPrefix("/"), let scheme = target.range(of: "://") {
            let afterAuthority = target[scheme.upperBound...]
            target = afterAuthority.firstIndex(of: "/").map { afterAuthority[$0...] } ?? "/"
        }
        let path = target.firstIndex(of: "?").map { target[..<$0] } ?? target
        switch path {
        case webhookPath:
            return method == .POST ? .webhook : .methodNotAllowed(allowed: "POST")
        case "/livez", "/healthz":
            return method == .GET ? .probe(.live) : .methodNotAllowed(allowed: "GET")
        case "/readyz":
            return method == .GET ? .probe(.ready) : .methodNotAllowed(allowed: "GET")
        case "/metrics":
            return method == .GET ? .probe(.metrics) : .methodNotAllowed(allowed: "GET")
        default:
            return .notFound(path: path)
        }
    }

    /// The answer for a route that is not the webhook's; probes are answered by the caller.
    static func answer(for route: Route, method: HTTPMethod) -> GatewayAnswer? {
        switch route {
        case .webhook, .probe:
            return nil
        case .notFound(let path):
            return Problem.notFound(path: path).answer(outcome: .notFound)
        case .methodNotAllowed(let allowed):
            return Problem.methodNotAllowed(method: method.rawValue, allowed: allowed)
                .answer(outcome: .methodNotAllowed, allow: allowed)
        }
    }

    /// A refusal decided from the webhook's head: 415 for a body that is not JSON, 413 for a declared length over the
    /// limit (the body is then never read). Nil admits the body.
    func admit(contentType: String?, contentLength: String?) -> GatewayAnswer? {
        guard Self.isJSON(contentType) else { return .unsupportedMediaType }
        if let contentLength, let length = Int(contentLength), length > maxBodyBytes {
            return .tooLarge(limit: maxBodyBytes)
        }
        return nil
    }

    /// Signature first (401), then the payload (400); the verified identity when both pass.
    func check(
        id: String?, timestamp: String?, signature: String?, body: UnsafeRawBufferPointer, nowSeconds: Int
    ) -> Result<VerifiedWebhook, Refusal> {
        let verified: VerifiedWebhook
        do {
            verified = try verifier.verify(id: id, timestamp: timestamp, signature: signature, body: body, now: nowSeconds)
        } catch {
            return .failure(.signature(error))
        }
        do {
            try ReviewVerdict.validate(body)
        } catch {
            return .failure(.payload(error))
        }
        return .success(verified)
    }

    /// Why a webhook was refused after its body was read.
    enum Refusal: Error {
        case signature(WebhookVerificationError)
        case payload(ReviewVerdictError)

        var answer: GatewayAnswer {
            switch self {
            case .signature(let error): Problem.unauthorized(error.description).answer(outcome: .unauthorized)
            case .payload(let error): Problem.invalidPayload(error.errors).answer(outcome: .invalidPayload)
            }
        }
    }

    /// The answer to Redis's reply: 202 for accepted or duplicate, 503 + `Retry-After` for a full backlog, an
    /// unreachable Redis or any reply that is not an enqueue outcome.
    static func answer(
        forEnqueueReply reply: Result<QueueReply, QueueLinkFailure>, webhookId: String, allocator: ByteBufferAllocator
    ) -> GatewayAnswer {
        guard case .success(let value) = reply, let outcome = value.enqueueOutcome else {
            return .queueUnavailable
        }
        switch outcome {
        case .accepted: return .accepted(id: webhookId, duplicate: false, allocator: allocator)
        case .duplicate: return .accepted(id: webhookId, duplicate: true, allocator: allocator)
        case .overBacklog: return .overBacklog
        }
    }

    /// `application/json`, case-insensitively, optionally followed by parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String?) -> Bool {
        guard var contentType else { return false }
        return contentType.withUTF8 { bytes in
            var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            var start = 0
            while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
            while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            return ASCII.equalsIgnoringCase(UnsafeBufferPointer(rebasing: bytes[start..<end]), "application/json")
        }
    }
}
