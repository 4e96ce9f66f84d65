/// A `WebhookVerifier` with each secret's HMAC keyed once, for one thread's hot path (an event loop): verifying a
/// message copies a keyed HMAC instead of keying it again, and reads the body in place.
///
/// Not `Sendable` (swift-crypto's hash states are not on Linux): make one per event loop.
public struct KeyedWebhookVerifier {
    /// The rules: secrets, tolerance, header checks.
    public let verifier: WebhookVerifier
    private let keyed: [HMACSHA256Key]

    public init(_ verifier: WebhookVerifier) {
        self.verifier = verifier
        self.keyed = verifier.secrets.map { $0.keyedHMAC() }
    }

    /// The same checks and answers as `WebhookVerifier.verify`, over a body that is not copied.
    public func verify(
        id: String?,
        timestamp: String?,
        signature: String?,
        body: UnsafeRawBufferPointer,
        now: Int
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        try verifier.verify(id: id, timestamp: timestamp, signature: signature, now: now) { id, timestamp, candidates in
            keyed.contains { hmac in
                let mac = WebhookSecret.authenticationCode(keyed: hmac, id: id, timestamp: timestamp, body: body)
                return WebhookVerifier.matchesAny(mac, candidates)
            }
        }
    }
}
