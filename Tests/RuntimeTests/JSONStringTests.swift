import Foundation
import Testing
@testable import Runtime

@Suite struct JSONStringTests {
    @Test func escapesWhatJSONRequiresAndNothingElse() {
        #expect(JSONString.literal("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") == "\"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W\"")
        #expect(JSONString.literal("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONString.literal("line\nnext\r\ttab") == #""line\nnext\r\ttab""#)
        #expect(JSONString.literal("\u{0}\u{1F}\u{7F}") == #""\u0000\u001f\u007f""#)
        #expect(JSONString.literal("") == "\"\"")
        #expect(JSONString.literal("é ✓ 😀 </script>") == "\"é ✓ 😀 </script>\"")
    }

    /// Whatever the text, the literal parses back to it.
    @Test func anyTextRoundTripsThroughAJSONParser() throws {
        var samples = ["\u{0}", "\\\"", "\u{7F}x\u{80}", "a\u{2028}b", String(repeating: "\"", count: 100)]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let scalars = (0..<Int.random(in: 0...40, using: &generator)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0...0x1F6FF, using: &generator))
            }
            samples.append(String(String.UnicodeScalarView(scalars)))
        }
        for text in samples {
            let literal = JSONString.literal(text)
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
            #expect(parsed == [text], "\(literal)")
        }
    }
}
