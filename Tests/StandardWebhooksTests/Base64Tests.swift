import Foundation
import Testing
import TestSupport
@testable import StandardWebhooks

@Suite struct Base64Tests {
    @Test(arguments: [
        ("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob"), ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
    ])
    func decodesRFC4648Vectors(encoded: String, decoded: String) {
        #expect(Base64.decode(encoded.utf8) == Array(decoded.utf8))
    }

    @Test(arguments: ["=", "====", "A===", "AA=", "AAA", "YW=j", "YWJj====", "YWJj\n", "YW Jj", "-_8=", "Zg=a"])
    func rejectsMalformed(text: String) {
        #expect(Base64.decode(text.utf8) == nil)
    }

    @Test func agreesWithFoundationOnRandomBytes() {
        var rng = SplitMix64(seed: 42)
        for length in 0..<100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64.decode(Data(bytes).base64EncodedString().utf8) == bytes)
        }
    }
}
