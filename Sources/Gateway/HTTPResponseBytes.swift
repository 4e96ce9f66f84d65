import NIOCore
import NIOHTTP1

/// A whole HTTP/1.1 response written as bytes into one buffer (status line, headers, body), so each answer is one
/// write on the channel with no encoder in between. Only what the gateway sends needs encoding: the status lines are
/// literals, and every header value is the gateway's own (ids are checked to be visible ASCII before they are echoed).
enum HTTPResponseBytes {
    /// `HTTP/1.1 100 Continue`, for a client that waits before sending its body.
    static let continueResponse: ByteBuffer = {
        var buffer = ByteBufferAllocator().buffer(capacity: 32)
        buffer.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
        return buffer
    }()

    /// Encodes `answer` for a request of HTTP version `version`; the answer to a HEAD request has no body (its
    /// `content-length` is still the body's).
    static func write(
        _ answer: GatewayAnswer, version: HTTPVersion, requestID: String, keepAlive: Bool, includeBody: Bool = true,
        into buffer: inout ByteBuffer
    ) {
        let http10 = version.major == 1 && version.minor == 0
        buffer.writeStaticString(http10 ? "HTTP/1.0 " : "HTTP/1.1 ")
        writeStatus(answer.status, into: &buffer)
        buffer.writeStaticString("\r\ncontent-type: ")
        buffer.writeString(answer.contentType)
        buffer.writeStaticString("\r\ncontent-length: ")
        buffer.writeString(String(answer.body.readableBytes))
        buffer.writeStaticString("\r\nx-request-id: ")
        buffer.writeString(requestID)
        if let retryAfter = answer.retryAfter {
            buffer.writeStaticString("\r\nretry-after: ")
            buffer.writeString(retryAfter)
        }
        if let allow = answer.allow {
            buffer.writeStaticString("\r\nallow: ")
            buffer.writeString(allow)
        }
        if answer.noStore {
            buffer.writeStaticString("\r\ncache-control: no-store")
        }
        if !keepAlive {
            buffer.writeStaticString("\r\nconnection: close")
        } else if http10 {
            buffer.writeStaticString("\r\nconnection: keep-alive")
        }
        buffer.writeStaticString("\r\n\r\n")
        if includeBody { buffer.writeImmutableBuffer(answer.body) }
    }

    private static func writeStatus(_ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        switch status {
        case .ok: buffer.writeStaticString("200 OK")
        case .accepted: buffer.writeStaticString("202 Accepted")
        case .badRequest: buffer.writeStaticString("400 Bad Request")
        case .unauthorized: buffer.writeStaticString("401 Unauthorized")
        case .notFound: buffer.writeStaticString("404 Not Found")
        case .methodNotAllowed: buffer.writeStaticString("405 Method Not Allowed")
        case .payloadTooLarge: buffer.writeStaticString("413 Content Too Large")
        case .unsupportedMediaType: buffer.writeStaticString("415 Unsupported Media Type")
        case .serviceUnavailable: buffer.writeStaticString("503 Service Unavailable")
        default:
            buffer.writeString(String(status.code))
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(status.reasonPhrase)
        }
    }
}
