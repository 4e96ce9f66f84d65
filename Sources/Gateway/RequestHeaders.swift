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
                if expect == nil, ASCII.equalsIgnoringCase(utf8, "expect") { expect = value }
            case 7:
                if upgrade == nil, ASCII.equalsIgnoringCase(utf8, "upgrade") { upgrade = value }
            case 10:
                if webhookId == nil, ASCII.equalsIgnoringCase(utf8, "webhook-id") { webhookId = value }
            case 12:
                if contentType == nil, ASCII.equalsIgnoringCase(utf8, "content-type") {
                    contentType = value
                } else if requestID == nil, ASCII.equalsIgnoringCase(utf8, "x-request-id") {
                    requestID = value
                }
            case 14:
                if contentLength == nil, ASCII.equalsIgnoringCase(utf8, "content-length") { contentLength = value }
            case 17:
                if webhookTimestamp == nil, ASCII.equalsIgnoringCase(utf8, "webhook-timestamp") {
                    webhookTimestamp = value
                } else if webhookSignature == nil, ASCII.equalsIgnoringCase(utf8, "webhook-signature") {
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
        return ASCII.equalsIgnoringCase(expect.utf8, "100-continue")
    }
}
