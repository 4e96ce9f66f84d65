import Testing

@testable import Model

/// The fast scanner must agree with Foundation's decoding on everything it accepts, and defer on the rest.
@Suite struct VerdictFastScannerTests {
    static let bodies: [String] = [
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"  {"documentStatus":"DECLINED" , "documentId":"d-1","agentId":"agent 7"}  "#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","x":[1,-2.5,0,true,false,null,{"y":[]},{}]}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","n":1e5}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","n":01}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","n":1.}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","n":12345678901234567890}"#,
        #"{"agentId":"a\u0041","documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"{"agentId":"é","documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"{"agentId":"a","agentId":"b","documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED",}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"} x"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"}{}"#,
        #"{"agentId":"","documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"accepted"}"#,
        #"{"agentId":1,"documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"{"agentId":"a","documentId":"d"}"#,
        #"{}"#, "[]", "", "null", #""s""#, "{", #"{"agentId""#, "\t\n",
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","t":tru}"#,
        #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","s":"a"b"}"#,
        "{\"agentId\":\"a\tb\",\"documentId\":\"d\",\"documentStatus\":\"ACCEPTED\"}",
        #"{"agentId":"\#(String(repeating: "x", count: 256))","documentId":"d","documentStatus":"ACCEPTED"}"#,
        #"{"agentId":"\#(String(repeating: "x", count: 257))","documentId":"d","documentStatus":"ACCEPTED"}"#,
    ]

    @Test(arguments: bodies)
    func agreesWithFoundation(_ body: String) {
        let bytes = Array(body.utf8)
        let expected = Result { () throws(ReviewVerdictError) in try ReviewVerdict.decodeWithFoundation(bytes) }
        let actual = Result { () throws(ReviewVerdictError) in try ReviewVerdict.decode(bytes) }
        switch (expected, actual) {
        case (.success(let a), .success(let b)): #expect(a == b)
        case (.failure(let a), .failure(let b)): #expect(a == b)
        default: Issue.record("disagreement on \(body): Foundation \(expected), fast path \(actual)")
        }
    }

    @Test func fastPathTakesThePlainCase() {
        let body = Array(#"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","x":{"y":[1,2.5]}}"#.utf8)
        let verdict = body.withUnsafeBufferPointer { bytes in
            var scanner = VerdictFastScanner(bytes: bytes)
            return scanner.verdict()
        }
        #expect(verdict == ReviewVerdict(agentId: "a", documentId: "d", documentStatus: .accepted))
    }
}
