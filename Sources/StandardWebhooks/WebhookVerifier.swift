import Crypto

/// Verifies Standard Webhooks headers against one or more secrets (several during key rotation).
public struct WebhookVerifier: Sendable {
    /// Longest accepted `webhook-id`, in characters.
    public static let maxIdLength = 256

    /// The secrets any one of which may have signed a message.
    public let secrets: [WebhookSecret]
    /// How far, in seconds, `webhook-timestamp` may be from now in either direction.
    public let tolerance: Int

    /// Creates a verifier accepting signatures under any of `secrets`, timestamps within `tolerance` seconds of now.
    public init(secrets: [WebhookSecret], tolerance: Int = 300) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// Checks the three headers and the raw body; returns the webhook's identity or says why it is not authentic.
    ///
    /// Order: headers present, id and timestamp well-formed, timestamp within tolerance, then the signature,
    /// so the HMAC is only computed for fresh, well-formed messages.
    public func verify(
        id: String?,
        timestamp: String?,
        signature: String?,
        body: [UInt8],
        now: Int
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        try verify(id: id, timestamp: timestamp, signature: signature, now: now) { id, timestamp, candidates in
            body.withUnsafeBytes { body in
                secrets.contains { secret in
                    Self.matchesAny(secret.authenticationCode(id: id, timestamp: timestamp, body: body), candidates)
                }
            }
        }
    }

    /// The checks in order, with the signature comparison left to `matches` (which sees the id and timestamp exactly
    /// as sent, and the decoded `v1` candidates), so the keyed per-loop verifier shares every other rule.
    func verify(
        id: String?,
        timestamp: String?,
        signature: String?,
        now: Int,
        matches: (String, String, [[UInt8]]) -> Bool
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        guard let id else { throw .missingHeader("webhook-id") }
        guard let timestamp else { throw .missingHeader("webhook-timestamp") }
        guard let signature else { throw .missingHeader("webhook-signature") }
        guard Self.isValidId(id) else { throw .malformedHeader("webhook-id") }
        guard let seconds = Self.parseTimestamp(timestamp) else { throw .malformedHeader("webhook-timestamp") }
        try checkFreshness(seconds, now: now)

        let candidates = try Self.parseSignatures(signature)
        guard !candidates.isEmpty else { throw .noMatchingSignature }
        // The signed content uses the timestamp exactly as sent: that is what the sender signed.
        guard matches(id, timestamp, candidates) else { throw .noMatchingSignature }
        return VerifiedWebhook(id: id, timestamp: seconds)
    }

    /// Whether `mac` equals any candidate, comparing all of them in constant time: no early exit, so the time taken
    /// does not reveal which candidate (if any) matched.
    static func matchesAny(_ mac: SHA256.Digest, _ candidates: [[UInt8]]) -> Bool {
        var matched = false
        for candidate in candidates {
            matched = mac.constantTimeEquals(candidate) || matched
        }
        return matched
    }

    private func checkFreshness(_ seconds: Int, now: Int) throws(WebhookVerificationError) {
        // Overflow-safe: an absurd timestamp or clock must fail the check, not trap.
        let (age, overflow) = now.subtractingReportingOverflow(seconds)
        if overflow {
            throw now > seconds ? .timestampTooOld : .timestampTooNew
        }
        if age > tolerance { throw .timestampTooOld }
        if age < -tolerance { throw .timestampTooNew }
    }

    /// Non-empty, at most 256 characters, no whitespace or control characters.
    static func isValidId(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard !utf8.isEmpty else { return false }
        // Fast path for the usual ASCII id: byte checks only, no Unicode property lookups (they are slow).
        var isASCII = true
        for byte in utf8 {
            if byte >= 0x80 {
                isASCII = false
                break
            }
            if byte <= 0x20 || byte == 0x7F { return false }
        }
        if isASCII { return utf8.count <= maxIdLength }
        guard id.count <= maxIdLength else { return false }
        for scalar in id.unicodeScalars {
            if scalar.isASCII {
                if scalar.value <= 0x20 || scalar.value == 0x7F { return false }
            } else if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control {
                return false
            }
        }
        return true
    }

    /// ASCII decimal digits only (no sign, no spaces), fitting in `Int`.
    static func parseTimestamp(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
    }

    /// The decoded `v1` signatures; other versions and malformed entries are skipped (they can never match).
    static func parseSignatures(_ header: String) throws(WebhookVerificationError) -> [[UInt8]] {
        let entries = header.utf8.split(separator: UInt8(ascii: " "))
        guard !entries.isEmpty else { throw .malformedHeader("webhook-signature") }
        var candidates: [[UInt8]] = []
        candidates.reserveCapacity(entries.count)
        for entry in entries {
            guard let comma = entry.firstIndex(of: UInt8(ascii: ",")),
                  entry[..<comma].elementsEqual("v1".utf8),
                  case let encoded = entry[entry.index(after: comma)...],
                  !encoded.isEmpty,
                  let mac = Base64.decode(encoded)
            else { continue }
            candidates.append(mac)
        }
        return candidates
    }
}
