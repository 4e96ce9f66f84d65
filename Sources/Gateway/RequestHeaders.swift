import NIOHTTP1

/// The request headers the gateway reads, picked out of a head in one pass (instead of one scan per name).
struct RequestHeaders {
    var contentType: String?
    var contentLength: String?
    var expect: String?
    var requestID: String?
    /// Present on a protocol-upgrade request (the decoder stops after it).
    var upgrade: String?
    var webhookId: String?
    var webhookTimestamp: String?
    var webhookSignature: String?

    /// The first value of each header of interest (names compared case-insensitively, as HTTP requires).
    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            let utf8 = name.utf8
            switch utf8.count {
            case 6:
                if expect == nil, Self.matches(utf8, "expect") { expect = value }
            case 7:
                if upgrade == nil, Self.matches(utf8, "upgrade") { upgrade = value }
            case 10:
                if webhookId == nil, Self.matches(utf8, "webhook-id") { webhookId = value }
            case 12:
                if contentType == nil, Self.matches(utf8, "content-type") {
                    contentType = value
                } else if requestID == nil, Self.matches(utf8, "x-request-id") {
                    requestID = value
                }
            case 14:
                if contentLength == nil, Self.matches(utf8, "content-length") { contentLength = value }
            case 17:
                if webhookTimestamp == nil, Self.matches(utf8, "webhook-timestamp") {
                    webhookTimestamp = value
                } else if webhookSignature == nil, Self.matches(utf8, "webhook-signature") {
                    webhookSignature = value
                }
            default:
                continue
            }
        }
    }

    /// Whether `expect` is `100-continue` (case-insensitively).
    var expectsContinue: Bool {
        guard let expect else { return false }
        return Self.matches(expect.utf8, "100-continue")
    }

    /// ASCII case-insensitive equality with a lower-case literal.
    private static func matches(_ text: String.UTF8View, _ lowercase: StaticString) -> Bool {
        guard text.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            var index = 0
            for byte in text {
                let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                guard lower == expected[index] else { return false }
                index += 1
            }
            return true
        }
    }
}
