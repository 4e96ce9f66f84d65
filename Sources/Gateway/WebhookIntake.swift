import HTTPTypes
import Hummingbird
import Logging
import Model
import NIOCore
import Queue
import StandardWebhooks

/// `POST /document/update` (DESIGN §3.4): content type, size, signature, payload, then the atomic enqueue — in that order.
/// A 202 is built only from Redis's answer to the enqueue script.
struct WebhookIntake: Sendable {
    let verifier: WebhookVerifier
    let queue: EventQueue
    let pool: RedisPool
    let maxBodyBytes: Int
    let maxBacklog: Int
    let dedupeTTLSeconds: Int
    let metrics: GatewayMetrics
    let logger: Logger

    /// Seconds a sender should wait after a 503: Redis usually comes back (or reconnects) quickly, a full backlog drains slower.
    static let retryAfterUnavailable = "1"
    static let retryAfterBacklog = "5"

    /// Handles one webhook; `headers` already carries `X-Request-ID`.
    func handle(_ request: Request, headers: HTTPFields, requestID: String) async throws -> (Response, GatewayOutcome) {
        guard Self.isJSON(request.headers[.contentType]) else {
            return (Problem.unsupportedMediaType.response(headers: headers), .unsupportedMediaType)
        }
        // A declared length over the limit is refused before reading a byte; chunked bodies are cut off while read.
        if let declared = request.headers[.contentLength], let length = Int(declared), length > maxBodyBytes {
            return (Problem.tooLarge(limit: maxBodyBytes).response(headers: headers), .tooLarge)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return (Problem.tooLarge(limit: maxBodyBytes).response(headers: headers), .tooLarge)
        }
        let body = Array(buffer.readableBytesView)
        let now = UnixTime.nowMilliseconds()

        let verified: VerifiedWebhook
        do {
            verified = try verifier.verify(
                id: request.headers[HTTPField.Name.webhookID],
                timestamp: request.headers[HTTPField.Name.webhookTimestamp],
                signature: request.headers[HTTPField.Name.webhookSignature],
                body: body,
                now: now / 1000
            )
        } catch {
            logger.debug("Webhook rejected: signature", metadata: ["request_id": "\(requestID)", "reason": "\(error)"])
            return (Problem.unauthorized(error.description).response(headers: headers), .unauthorized)
        }

        do {
            _ = try ReviewVerdict.decode(body)
        } catch {
            logger.debug("Webhook rejected: payload", metadata: [
                "request_id": "\(requestID)", "webhook_id": "\(verified.id)", "errors": "\(error.errors.count)",
            ])
            return (Problem.invalidPayload(error.errors).response(headers: headers), .invalidPayload)
        }

        let envelope = EventEnvelope(webhookId: verified.id, timestamp: verified.timestamp, receivedAt: now, body: body)
        let started = ContinuousClock.now
        let outcome: EnqueueOutcome
        do {
            outcome = try await queue.enqueue(envelope, dedupeTTLSeconds: dedupeTTLSeconds, maxBacklog: maxBacklog, on: pool.next())
        } catch {
            logger.debug("Enqueue failed", metadata: [
                "request_id": "\(requestID)", "webhook_id": "\(verified.id)", "error": "\(error)",
            ])
            var fields = headers
            fields[.retryAfter] = Self.retryAfterUnavailable
            return (Problem.queueUnavailable.response(headers: fields), .redisUnavailable)
        }
        let elapsed = ContinuousClock.now - started
        metrics.enqueueDuration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)

        switch outcome {
        case .accepted, .duplicate:
            logger.debug("Webhook enqueued", metadata: [
                "request_id": "\(requestID)", "webhook_id": "\(verified.id)", "duplicate": "\(outcome == .duplicate)",
            ])
            var fields = headers
            fields[.contentType] = "application/json"
            return (Response(status: .accepted, headers: fields, body: ResponseBody(byteBuffer: Self.acceptedBody(id: verified.id))),
                    outcome == .duplicate ? .duplicate : .accepted)
        case .overBacklog:
            logger.debug("Webhook refused: backlog full", metadata: ["request_id": "\(requestID)", "webhook_id": "\(verified.id)"])
            var fields = headers
            fields[.retryAfter] = Self.retryAfterBacklog
            return (Problem.overBacklog.response(headers: fields), .overBacklog)
        }
    }

    /// `{"id":"<webhook-id>"}`.
    static func acceptedBody(id: String) -> ByteBuffer {
        var out: [UInt8] = Array(#"{"id":"#.utf8)
        out.reserveCapacity(id.utf8.count + 10)
        JSONText.appendString(id, to: &out)
        out.append(UInt8(ascii: "}"))
        return ByteBuffer(bytes: out)
    }

    /// `application/json`, case-insensitively, optionally followed by parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        var trimmed = media[...]
        while let first = trimmed.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { trimmed = trimmed.dropFirst() }
        while let last = trimmed.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { trimmed = trimmed.dropLast() }
        let expected = "application/json".utf8
        guard trimmed.count == expected.count else { return false }
        // ASCII lower-casing is enough: media types are ASCII tokens.
        return zip(trimmed, expected).allSatisfy { byte, wanted in
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            return lower == wanted
        }
    }
}

extension HTTPField.Name {
    // Literal, valid header names: the initialiser cannot fail for them.
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!
}
