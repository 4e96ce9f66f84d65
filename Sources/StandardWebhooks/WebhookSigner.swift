import Foundation

/// Signs webhooks per Standard Webhooks with one secret.
public struct WebhookSigner: Sendable {
    /// The secret the signatures are made with.
    public let secret: WebhookSecret

    /// Creates a signer for `secret`.
    public init(secret: WebhookSecret) {
        self.secret = secret
    }

    /// The `webhook-signature` value for this message: `v1,<base64 HMAC-SHA256>`.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        let mac = body.withUnsafeBytes { secret.authenticationCode(id: id, timestamp: String(timestamp), body: $0) }
        return "v1," + mac.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The three headers a sender attaches: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    public func headers(id: String, timestamp: Int, body: [UInt8]) -> [(name: String, value: String)] {
        [
            (name: "webhook-id", value: id),
            (name: "webhook-timestamp", value: String(timestamp)),
            (name: "webhook-signature", value: signature(id: id, timestamp: timestamp, body: body)),
        ]
    }
}
