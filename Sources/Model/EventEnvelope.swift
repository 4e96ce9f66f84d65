/// An accepted webhook as stored in the events stream (docs/reference.md §8): the fields are the contract between
/// gateway and worker.
public struct EventEnvelope: Sendable, Hashable {
    /// The stream field names, exactly as stored in Redis.
    public enum Field: String, Sendable, CaseIterable {
        case webhookId = "webhook_id"
        case timestamp = "timestamp"
        case receivedAt = "received_at"
        case body = "body"
        case attempt = "attempt"
    }

    /// The `webhook-id` header: the dedupe and idempotency key.
    public var webhookId: String
    /// The `webhook-timestamp` header, in Unix seconds (orders verdicts for one document).
    public var timestamp: Int
    /// When the gateway accepted it, in Unix milliseconds.
    public var receivedAt: Int
    /// The raw JSON body, verbatim as received.
    public var body: [UInt8]
    /// How many failed attempts to apply it preceded this delivery (0 for a fresh event).
    public var attempt: Int

    /// Creates an envelope.
    public init(webhookId: String, timestamp: Int, receivedAt: Int, body: [UInt8], attempt: Int = 0) {
        self.webhookId = webhookId
        self.timestamp = timestamp
        self.receivedAt = receivedAt
        self.body = body
        self.attempt = attempt
    }

    /// The stream entry's fields: numbers as ASCII decimal, `body` as the raw bytes.
    public var fields: [(name: String, value: [UInt8])] {
        [
            (name: Field.webhookId.rawValue, value: Array(webhookId.utf8)),
            (name: Field.timestamp.rawValue, value: Array(String(timestamp).utf8)),
            (name: Field.receivedAt.rawValue, value: Array(String(receivedAt).utf8)),
            (name: Field.body.rawValue, value: body),
            (name: Field.attempt.rawValue, value: Array(String(attempt).utf8)),
        ]
    }

    /// Reads a stream entry; unknown fields (a dead letter's `error`, `consumer`, …) are ignored,
    /// a missing `attempt` means 0, and the first occurrence of a repeated field wins.
    public init(fields: [(name: String, value: [UInt8])]) throws(EnvelopeError) {
        var webhookId: [UInt8]?
        var timestamp: [UInt8]?
        var receivedAt: [UInt8]?
        var body: [UInt8]?
        var attempt: [UInt8]?
        for (name, value) in fields {
            switch Field(rawValue: name) {
            case .webhookId: if webhookId == nil { webhookId = value }
            case .timestamp: if timestamp == nil { timestamp = value }
            case .receivedAt: if receivedAt == nil { receivedAt = value }
            case .body: if body == nil { body = value }
            case .attempt: if attempt == nil { attempt = value }
            case nil: continue
            }
        }

        guard let webhookId else { throw EnvelopeError(code: .missingField, field: Field.webhookId.rawValue) }
        guard !webhookId.isEmpty, let id = String(validating: webhookId, as: UTF8.self) else {
            throw EnvelopeError(code: .invalidField, field: Field.webhookId.rawValue)
        }
        self.webhookId = id
        self.timestamp = try Self.decimal(timestamp, .timestamp)
        self.receivedAt = try Self.decimal(receivedAt, .receivedAt)
        guard let body else { throw EnvelopeError(code: .missingField, field: Field.body.rawValue) }
        self.body = body
        if let attempt {
            self.attempt = try Self.decimal(attempt, .attempt)
        } else {
            // Entries written before a first failure carry no attempt count.
            self.attempt = 0
        }
    }

    /// A non-negative ASCII decimal that fits in `Int`.
    private static func decimal(_ bytes: [UInt8]?, _ field: Field) throws(EnvelopeError) -> Int {
        guard let bytes else { throw EnvelopeError(code: .missingField, field: field.rawValue) }
        guard !bytes.isEmpty else { throw EnvelopeError(code: .invalidField, field: field.rawValue) }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw EnvelopeError(code: .invalidField, field: field.rawValue)
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw EnvelopeError(code: .invalidField, field: field.rawValue) }
            value = next
        }
        return value
    }
}
