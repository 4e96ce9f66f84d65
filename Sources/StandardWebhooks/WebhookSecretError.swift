/// Why a `whsec_` signing secret was rejected; the description never contains the secret itself.
public struct WebhookSecretError: Error, Hashable, CustomStringConvertible {
    /// The kind of problem with the secret.
    public enum Code: Sendable, Hashable {
        /// The text does not start with `whsec_`.
        case missingPrefix
        /// The part after `whsec_` is not valid base64.
        case invalidBase64
        /// The key decodes to zero bytes.
        case emptyKey
        /// A list of secrets held no secret at all.
        case noSecrets
    }

    /// The kind of problem.
    public var code: Code
    /// 1-based position of the bad secret in a space-separated list, when it came from one.
    public var position: Int?

    /// Creates an error of the given kind.
    public init(code: Code, position: Int? = nil) {
        self.code = code
        self.position = position
    }

    public var description: String {
        let reason = switch code {
        case .missingPrefix: "webhook secret must start with whsec_"
        case .invalidBase64: "webhook secret is not valid base64 after the whsec_ prefix"
        case .emptyKey: "webhook secret has an empty key after the whsec_ prefix"
        case .noSecrets: "no webhook secret given: at least one whsec_ secret is needed"
        }
        guard let position else { return reason }
        return "secret #\(position): \(reason)"
    }
}
