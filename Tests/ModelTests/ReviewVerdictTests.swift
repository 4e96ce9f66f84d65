import Testing
import Model

@Suite struct ReviewVerdictTests {
    private func decode(_ json: String) throws(ReviewVerdictError) -> ReviewVerdict {
        try ReviewVerdict.decode(Array(json.utf8))
    }

    private func errors(_ json: String) -> [FieldError] {
        do {
            _ = try decode(json)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func decodesValidVerdict() throws {
        let verdict = try decode(#"{"agentId": "agent-7", "documentId": "doc-1", "documentStatus": "DECLINED"}"#)
        #expect(verdict == ReviewVerdict(agentId: "agent-7", documentId: "doc-1", documentStatus: .declined))
        #expect(verdict.documentStatus.reviewStatus == .declined)
    }

    @Test func ignoresUnknownFields() throws {
        let verdict = try decode(#"""
            {"agentId": "a", "extra": [1, {"x": null}], "documentId": "d", "documentStatus": "ACCEPTED", "n": 3.5}
            """#)
        #expect(verdict == ReviewVerdict(agentId: "a", documentId: "d", documentStatus: .accepted))
    }

    @Test func collectsEveryMissingField() {
        #expect(errors("{}") == [
            FieldError(field: "agentId", reason: "missing"),
            FieldError(field: "documentId", reason: "missing"),
            FieldError(field: "documentStatus", reason: "missing"),
        ])
    }

    @Test func collectsMixedErrorsTogether() {
        let long = String(repeating: "x", count: 257)
        #expect(errors(#"{"agentId": 12, "documentId": "\#(long)", "documentStatus": "MAYBE"}"#) == [
            FieldError(field: "agentId", reason: "must be a string"),
            FieldError(field: "documentId", reason: "must be 1 to 256 characters"),
            FieldError(field: "documentStatus", reason: "must be ACCEPTED or DECLINED"),
        ])
        #expect(errors(#"{"documentId": "", "documentStatus": "accepted"}"#) == [
            FieldError(field: "agentId", reason: "missing"),
            FieldError(field: "documentId", reason: "must be 1 to 256 characters"),
            FieldError(field: "documentStatus", reason: "must be ACCEPTED or DECLINED"),
        ])
    }

    @Test(arguments: ["12", "1.5", "true", "false", "null", "[]", "[\"a\"]", "{}", "{\"a\": \"b\"}"])
    func nonStringTypes(value: String) {
        #expect(errors(#"{"agentId": \#(value), "documentId": \#(value), "documentStatus": \#(value)}"#) == [
            FieldError(field: "agentId", reason: "must be a string"),
            FieldError(field: "documentId", reason: "must be a string"),
            FieldError(field: "documentStatus", reason: "must be a string"),
        ])
    }

    @Test func lengthBoundsCountCharactersNotBytes() throws {
        for length in [1, 256] {
            for unit in ["a", "é", "日", "👍🏽"] {
                let id = String(repeating: unit, count: length)
                let verdict = try decode(#"{"agentId": "\#(id)", "documentId": "\#(id)", "documentStatus": "ACCEPTED"}"#)
                #expect(verdict.agentId == id)
                #expect(verdict.documentId.count == length)
            }
        }
        for (length, unit) in [(0, "a"), (257, "a"), (257, "é")] {
            let id = String(repeating: unit, count: length)
            #expect(errors(#"{"agentId": "\#(id)", "documentId": "\#(id)", "documentStatus": "DECLINED"}"#) == [
                FieldError(field: "agentId", reason: "must be 1 to 256 characters"),
                FieldError(field: "documentId", reason: "must be 1 to 256 characters"),
            ])
        }
    }

    @Test func escapedStringsCountDecodedCharacters() throws {
        // 256 characters written as \u00e9 escapes (1,536 bytes of JSON) are still 256 characters.
        let escaped = String(repeating: #"\u00e9"#, count: 256)
        let verdict = try decode(#"{"agentId": "\#(escaped)", "documentId": "d", "documentStatus": "ACCEPTED"}"#)
        #expect(verdict.agentId == String(repeating: "é", count: 256))
    }

    @Test(arguments: ["", "{", "not json", #"{"agentId" "a"}"#, "\u{FF}\u{FE}", #"{"a": 1} trailing"#])
    func notJSON(text: String) {
        #expect(errors(text) == [FieldError(field: "body", reason: "not valid JSON")])
    }

    @Test func trailingCommaIsTolerated() throws {
        // Foundation's parser accepts a trailing comma; harmless, and pinned here so a change is noticed.
        _ = try decode(#"{"agentId": "a", "documentId": "d", "documentStatus": "ACCEPTED",}"#)
    }

    @Test func invalidUTF8IsNotJSON() {
        #expect(throws: ReviewVerdictError(errors: [FieldError(field: "body", reason: "not valid JSON")])) {
            try ReviewVerdict.decode([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        }
    }

    @Test(arguments: ["[]", #"[{"agentId": "a"}]"#, #""text""#, "42", "true", "null"])
    func notAnObject(text: String) {
        #expect(errors(text) == [FieldError(field: "body", reason: "must be a JSON object")])
    }

    @Test func errorDescriptionListsEveryField() {
        let error = ReviewVerdictError(errors: [
            FieldError(field: "agentId", reason: "missing"), FieldError(field: "documentId", reason: "missing"),
        ])
        #expect(error.description == "invalid review verdict: agentId: missing; documentId: missing")
    }

    @Test func statusesMatchTheSchema() {
        #expect(ReviewStatus.allCases.map(\.rawValue)
            == ["QUEUED", "PENDING_REVIEW", "ACCEPTED", "DECLINED", "REQUEST_FAILED"])
        #expect(Verdict.accepted.reviewStatus == .accepted)
    }
}
