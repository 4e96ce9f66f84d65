import Testing
@testable import StandardWebhooks

@Suite struct WebhookSecretTests {
    @Test func parsesSpecSecret() throws {
        let secret = try WebhookSecret(SpecVector.secret)
        #expect(secret.keyBytes.count == 24)
    }

    @Test(arguments: [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WebhookSecretError.Code.missingPrefix),
        ("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", .missingPrefix),
        ("", .missingPrefix),
        ("whsec_", .emptyKey),
        ("whsec_not base64!", .invalidBase64),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", .invalidBase64),
        ("whsec_====", .invalidBase64),
        ("whsec_YW=j", .invalidBase64),
        ("whsec_YWJj====", .invalidBase64),
        ("whsec_YWJj\n", .invalidBase64),
        ("whsec_-_8=", .invalidBase64),
        ("whsec_ YWJj", .invalidBase64),
    ])
    func rejectsBadSecrets(text: String, code: WebhookSecretError.Code) {
        #expect(throws: WebhookSecretError(code: code)) { try WebhookSecret(text) }
    }

    @Test func listParsesSeveralSecrets() throws {
        let secrets = try WebhookSecret.list("  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw   whsec_c2Vjb25k ")
        #expect(secrets.count == 2)
        #expect(secrets[1].keyBytes == Array("second".utf8))
    }

    @Test func listNamesTheBadSecret() {
        #expect(throws: WebhookSecretError(code: .missingPrefix, position: 2)) {
            try WebhookSecret.list("whsec_c2Vjb25k c2Vjb25k")
        }
        #expect(throws: WebhookSecretError(code: .noSecrets)) { try WebhookSecret.list("   ") }
    }

    @Test func neverPrintsTheKey() throws {
        let secret = try WebhookSecret(SpecVector.secret)
        #expect(!"\(secret)".contains("MfKQ"))
        #expect(!String(reflecting: secret).contains("MfKQ"))
        let error = WebhookSecretError(code: .invalidBase64, position: 3)
        #expect(error.description == "secret #3: webhook secret is not valid base64 after the whsec_ prefix")
    }
}
