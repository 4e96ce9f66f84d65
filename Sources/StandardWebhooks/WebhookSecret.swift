/// A Standard Webhooks signing secret (`whsec_` + base64 key), holding only the decoded key bytes.
///
/// swift-crypto's `SymmetricKey` is not `Sendable` on Linux, so the bytes are kept and the key is
/// built where it is used.
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The prefix every Standard Webhooks secret carries.
    public static let prefix = "whsec_"

    /// The decoded HMAC key.
    let keyBytes: [UInt8]

    /// Parses `whsec_<base64>`; rejects a missing prefix, bad base64 and an empty key.
    public init(_ text: String) throws(WebhookSecretError) {
        guard text.hasPrefix(Self.prefix) else { throw WebhookSecretError(code: .missingPrefix) }
        let encoded = text.dropFirst(Self.prefix.count)
        guard !encoded.isEmpty else { throw WebhookSecretError(code: .emptyKey) }
        guard let key = Base64.decode(encoded.utf8) else {
            throw WebhookSecretError(code: .invalidBase64)
        }
        guard !key.isEmpty else { throw WebhookSecretError(code: .emptyKey) }
        self.keyBytes = key
    }

    /// Parses a space-separated list of secrets (key rotation); at least one is required.
    public static func list(_ spaceSeparated: String) throws(WebhookSecretError) -> [WebhookSecret] {
        let texts = spaceSeparated.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard !texts.isEmpty else { throw WebhookSecretError(code: .noSecrets) }
        var secrets: [WebhookSecret] = []
        secrets.reserveCapacity(texts.count)
        for (index, text) in texts.enumerated() {
            do {
                secrets.append(try WebhookSecret(String(text)))
            } catch {
                throw WebhookSecretError(code: error.code, position: index + 1)
            }
        }
        return secrets
    }

    // Secrets end up in configuration structs that get logged or dumped: never print the key.
    public var description: String { "WebhookSecret(redacted)" }
    public var debugDescription: String { description }
}

extension WebhookSecret {
    /// The secrets configured in `text`, at least one, for a process's start: `source` names where the text came from
    /// (`DOCKET_WEBHOOK_SECRET`, `--secret`) in the error, which never holds the secret itself.
    public static func configured(_ text: String?, source: String) throws(WebhookSecretConfigurationError) -> [WebhookSecret] {
        guard let text, !text.allSatisfy(\.isWhitespace) else {
            throw WebhookSecretConfigurationError(description: "\(source) is not set: give at least one whsec_ secret")
        }
        do {
            return try list(text)
        } catch {
            throw WebhookSecretConfigurationError(description: "\(source) is invalid: \(error)")
        }
    }
}

/// A webhook secret setting that is missing or invalid, as one line naming the setting; never the secret.
public struct WebhookSecretConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
