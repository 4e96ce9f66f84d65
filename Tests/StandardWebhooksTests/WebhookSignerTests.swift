import Testing
import StandardWebhooks

@Suite struct WebhookSignerTests {
    @Test func reproducesSpecVector() throws {
        let signer = WebhookSigner(secret: try WebhookSecret(SpecVector.secret))
        let signature = signer.signature(id: SpecVector.id, timestamp: SpecVector.timestamp, body: SpecVector.body)
        #expect(signature == SpecVector.signature)
    }

    @Test func headersCarryIdTimestampAndSignature() throws {
        let signer = WebhookSigner(secret: try WebhookSecret(SpecVector.secret))
        let headers = signer.headers(id: SpecVector.id, timestamp: SpecVector.timestamp, body: SpecVector.body)
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers.map(\.value) == [SpecVector.id, "1614265330", SpecVector.signature])
    }

    @Test func verifiesSpecVector() throws {
        let verifier = WebhookVerifier(secrets: [try WebhookSecret(SpecVector.secret)])
        let verified = try verifier.verify(
            id: SpecVector.id, timestamp: "1614265330", signature: SpecVector.signature,
            body: SpecVector.body, now: SpecVector.timestamp + 10
        )
        #expect(verified == VerifiedWebhook(id: SpecVector.id, timestamp: SpecVector.timestamp))
    }
}
