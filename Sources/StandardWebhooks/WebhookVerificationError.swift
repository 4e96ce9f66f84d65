/// Why a webhook was not accepted as authentic; each case is a 401 at the gateway.
public enum WebhookVerificationError: Error, Hashable, CustomStringConvertible {
    /// The named header is absent.
    case missingHeader(String)
    /// The named header is present but not in the required form.
    case malformedHeader(String)
    /// `webhook-timestamp` is further in the past than the tolerance.
    case timestampTooOld
    /// `webhook-timestamp` is further in the future than the tolerance.
    case timestampTooNew
    /// No `v1` signature matched under any configured secret.
    case noMatchingSignature

    public var description: String {
        switch self {
        case .missingHeader(let name): "missing \(name) header"
        case .malformedHeader(let name): "malformed \(name) header"
        case .timestampTooOld: "webhook-timestamp is too old"
        case .timestampTooNew: "webhook-timestamp is too far in the future"
        case .noMatchingSignature: "no matching signature"
        }
    }
}
