import Foundation

extension ReviewVerdict {
    /// Decodes and validates a webhook body, collecting every field error; unknown fields are ignored.
    ///
    /// The plain case (ASCII JSON without escapes, which is what the Help Desk sends) goes through `VerdictFastScanner`
    /// without building a dictionary; anything else, and every invalid body, goes through Foundation's parser.
    public static func decode(_ body: [UInt8]) throws(ReviewVerdictError) -> ReviewVerdict {
        let fast = body.withUnsafeBufferPointer { bytes in
            var scanner = VerdictFastScanner(bytes: bytes)
            return scanner.verdict()
        }
        if let fast { return fast }
        return try decodeWithFoundation(body)
    }

    /// Checks a webhook body the way `decode` does, without building the verdict: the gateway's hot path only needs
    /// to know that the body is valid, and the plain case is checked in place. The error is `decode`'s.
    public static func validate(_ body: UnsafeRawBufferPointer) throws(ReviewVerdictError) {
        var scanner = VerdictFastScanner(bytes: body.assumingMemoryBound(to: UInt8.self))
        if scanner.scan() != nil { return }
        _ = try decodeWithFoundation(Array(body))
    }

    /// The reference decoding: Foundation's JSON parser, then the field checks. Internal for the scanner's tests.
    static func decodeWithFoundation(_ body: [UInt8]) throws(ReviewVerdictError) -> ReviewVerdict {
        let parsed: Any
        do {
            // Fragments allowed so that `"text"` or `42` is reported as "not an object", not "not JSON".
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw ReviewVerdictError(errors: [FieldError(field: "body", reason: "not valid JSON")])
        }
        guard let object = parsed as? [String: Any] else {
            throw ReviewVerdictError(errors: [FieldError(field: "body", reason: "must be a JSON object")])
        }

        var errors: [FieldError] = []
        let agentId = identifier("agentId", in: object, errors: &errors)
        let documentId = identifier("documentId", in: object, errors: &errors)
        let documentStatus = verdict("documentStatus", in: object, errors: &errors)

        guard errors.isEmpty, let agentId, let documentId, let documentStatus else {
            throw ReviewVerdictError(errors: errors)
        }
        return ReviewVerdict(agentId: agentId, documentId: documentId, documentStatus: documentStatus)
    }

    /// The string value of `field`, or nil with the reason appended to `errors`.
    private static func string(_ field: String, in object: [String: Any], errors: inout [FieldError]) -> String? {
        guard let value = object[field] else {
            errors.append(FieldError(field: field, reason: "missing"))
            return nil
        }
        // null, numbers and booleans (NSNull / NSNumber) never cast to String, so all are "must be a string".
        guard let string = value as? String else {
            errors.append(FieldError(field: field, reason: "must be a string"))
            return nil
        }
        return string
    }

    private static func identifier(_ field: String, in object: [String: Any], errors: inout [FieldError]) -> String? {
        guard let value = string(field, in: object, errors: &errors) else { return nil }
        // Characters (grapheme clusters), not bytes: "é" counts once however it is encoded.
        guard (1...maxIdentifierLength).contains(value.count) else {
            errors.append(FieldError(field: field, reason: "must be 1 to \(maxIdentifierLength) characters"))
            return nil
        }
        return value
    }

    private static func verdict(_ field: String, in object: [String: Any], errors: inout [FieldError]) -> Verdict? {
        guard let value = string(field, in: object, errors: &errors) else { return nil }
        guard let verdict = Verdict(rawValue: value) else {
            errors.append(FieldError(field: field, reason: "must be ACCEPTED or DECLINED"))
            return nil
        }
        return verdict
    }
}
