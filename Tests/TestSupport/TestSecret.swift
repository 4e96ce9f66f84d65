/// The webhook signing secret every test signs with: the Standard Webhooks specification's example key.
public enum TestSecret {
    public static let webhook = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// The key part, after `whsec_`: what must never appear in output.
    public static let webhookKey = String(webhook.dropFirst("whsec_".count))
}
