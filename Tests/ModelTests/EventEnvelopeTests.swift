import Testing
import Model

@Suite struct EventEnvelopeTests {
    let envelope = EventEnvelope(
        webhookId: "msg_2Nf", timestamp: 1_700_000_000, receivedAt: 1_700_000_000_123,
        body: Array("{\"agentId\":\"a\"}\r\n\u{0}\u{FF}".utf8) + [0xFF, 0x00], attempt: 3
    )

    private func fields(without name: String? = nil, replacing: (String, String)? = nil) -> [(name: String, value: [UInt8])] {
        envelope.fields.compactMap { field in
            if field.name == name { return nil }
            if let replacing, field.name == replacing.0 { return (name: field.name, value: Array(replacing.1.utf8)) }
            return field
        }
    }

    @Test func fieldNamesAndValuesMatchTheContract() {
        let fields = envelope.fields
        #expect(fields.map(\.name) == ["webhook_id", "timestamp", "received_at", "body", "attempt"])
        #expect(fields[0].value == Array("msg_2Nf".utf8))
        #expect(fields[1].value == Array("1700000000".utf8))
        #expect(fields[2].value == Array("1700000000123".utf8))
        #expect(fields[3].value == envelope.body)
        #expect(fields[4].value == Array("3".utf8))
    }

    @Test func roundTripsThroughFields() throws {
        #expect(try EventEnvelope(fields: envelope.fields) == envelope)
        let fresh = EventEnvelope(webhookId: "w", timestamp: 0, receivedAt: 0, body: [])
        #expect(try EventEnvelope(fields: fresh.fields) == fresh)
    }

    @Test func missingAttemptMeansZero() throws {
        let decoded = try EventEnvelope(fields: fields(without: "attempt"))
        #expect(decoded.attempt == 0)
        #expect(decoded.body == envelope.body)
    }

    @Test func ignoresUnknownFieldsAndKeepsTheFirstOfRepeatedOnes() throws {
        let deadLetter = envelope.fields + [
            (name: "error", value: Array("document unknown".utf8)), (name: "consumer", value: Array("w-1".utf8)),
            (name: "attempt", value: Array("9".utf8)),
        ]
        #expect(try EventEnvelope(fields: deadLetter) == envelope)
    }

    @Test(arguments: ["webhook_id", "timestamp", "received_at", "body"])
    func missingFieldIsNamed(name: String) {
        #expect(throws: EnvelopeError(code: .missingField, field: name)) {
            try EventEnvelope(fields: fields(without: name))
        }
    }

    @Test(arguments: [
        ("timestamp", ""), ("timestamp", "12a"), ("timestamp", "-5"), ("timestamp", " 1"), ("timestamp", "1.0"),
        ("received_at", "99999999999999999999"), ("attempt", "x"), ("attempt", ""), ("webhook_id", ""),
    ])
    func invalidFieldIsNamed(name: String, value: String) {
        #expect(throws: EnvelopeError(code: .invalidField, field: name)) {
            try EventEnvelope(fields: fields(replacing: (name, value)))
        }
    }

    @Test func invalidUTF8WebhookIdIsRejected() {
        var fields = envelope.fields
        fields[0].value = [0x6D, 0xFF]
        #expect(throws: EnvelopeError(code: .invalidField, field: "webhook_id")) { try EventEnvelope(fields: fields) }
    }

    @Test func errorDescriptionNamesTheField() {
        #expect(EnvelopeError(code: .missingField, field: "body").description == "event entry has no body field")
        #expect(EnvelopeError(code: .invalidField, field: "attempt").description
            == "event entry has an invalid attempt field")
    }
}
