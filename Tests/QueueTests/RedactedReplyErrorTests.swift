import Redis
import Testing

@testable import Queue

/// Replies of an unexpected shape are reported by shape only: an XREADGROUP or XRANGE reply carries webhook bodies,
/// and the error's text ends up in workers' and docketctl's logs.
@Suite struct RedactedReplyErrorTests {
    static let secretBody = Array(#"{"agentId":"SECRET-AGENT","documentId":"SECRET-DOC","documentStatus":"ACCEPTED"}"#.utf8)
    static let hostileReplies: [RESPValue] = [
        // An entry that is not [id, fields]: the whole entry used to be printed.
        .array([.array([.bulkString(Self.secretBody)])]),
        .array([.array([.bulkString(Array("1-0".utf8)), .bulkString(Self.secretBody), .bulkString(Self.secretBody)])]),
        .bulkString(Self.secretBody),
        .error("ERR SECRET-DOC was in the message"),
    ]

    /// The secret as text, or as the byte list Swift prints for `[UInt8]` ("83, 69, 67, 82, 69, 84").
    static func leaks(_ text: String) -> Bool {
        text.contains("SECRET") || text.contains(Array("SECRET".utf8).map(String.init).joined(separator: ", "))
    }

    @Test(arguments: hostileReplies)
    func decodeErrorsNameTheShapeNotTheContent(_ reply: RESPValue) {
        do {
            _ = try StreamEntry.decodeList(reply)
            Issue.record("decoded a hostile reply")
        } catch {
            let text = "\(error)"
            #expect(!Self.leaks(text), "the error text leaks the reply: \(text.count) characters")
            #expect(text.contains("expected"))
        }
    }

    @Test func enqueueOutcomeErrorsNameTheShapeNotTheContent() {
        do {
            _ = try EventQueue.outcome(.array([.bulkString(Self.secretBody)]))
            Issue.record("accepted a hostile reply")
        } catch {
            #expect(!Self.leaks("\(error)"))
        }
    }
}
