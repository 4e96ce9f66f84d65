import Testing
import StandardWebhooks

@Suite struct WebhookVerifierTests {
    let now = 1_700_000_000
    let body = Array(#"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"}"#.utf8)
    let old = try! WebhookSecret("whsec_b2xkLXNlY3JldC1rZXk=")  // "old-secret-key"
    let new = try! WebhookSecret("whsec_bmV3LXNlY3JldC1rZXk=")  // "new-secret-key"

    private func sign(_ secret: WebhookSecret, id: String = "msg_1", timestamp: Int? = nil) -> String {
        WebhookSigner(secret: secret).signature(id: id, timestamp: timestamp ?? now, body: body)
    }

    private func verify(
        _ verifier: WebhookVerifier, id: String? = "msg_1", timestamp: String? = nil,
        signature: String?, now: Int? = nil
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        try verifier.verify(
            id: id, timestamp: timestamp ?? String(self.now), signature: signature, body: body, now: now ?? self.now
        )
    }

    @Test func roundTrip() throws {
        let verified = try verify(WebhookVerifier(secrets: [new]), signature: sign(new))
        #expect(verified == VerifiedWebhook(id: "msg_1", timestamp: now))
    }

    @Test func rotationAcceptsEitherSecret() throws {
        let verifier = WebhookVerifier(secrets: [old, new])
        _ = try verify(verifier, signature: sign(old))
        _ = try verify(verifier, signature: sign(new))
        // A verifier that dropped the old secret no longer accepts it.
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verify(WebhookVerifier(secrets: [new]), signature: sign(old))
        }
    }

    @Test func oneValidSignatureAmongSeveralSuffices() throws {
        let verifier = WebhookVerifier(secrets: [new])
        let header = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \(sign(old)) v1,garbage!! \(sign(new))"
        _ = try verify(verifier, signature: header)
        // Extra spaces between entries are tolerated.
        _ = try verify(verifier, signature: "  \(sign(old))   \(sign(new))  ")
    }

    @Test func otherVersionsAreIgnored() throws {
        let verifier = WebhookVerifier(secrets: [new])
        let mac = String(sign(new).dropFirst(3))
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verify(verifier, signature: "v2,\(mac)")
        }
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verify(verifier, signature: "v1a,\(mac) V1,\(mac) ,\(mac) \(mac)")
        }
        _ = try verify(verifier, signature: "v2,\(mac) v1,\(mac)")
    }

    @Test(arguments: [
        "v1,", "v1", "v1,not-base64!", "v1,\u{0}", "v1;abc", "v1,YWJj",  // YWJj: valid base64, wrong length
    ])
    func malformedEntriesDoNotMatch(header: String) {
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verify(WebhookVerifier(secrets: [new]), signature: header)
        }
    }

    @Test func missingHeaders() {
        let verifier = WebhookVerifier(secrets: [new])
        let signature = sign(new)
        #expect(throws: WebhookVerificationError.missingHeader("webhook-id")) {
            try verifier.verify(id: nil, timestamp: String(now), signature: signature, body: body, now: now)
        }
        #expect(throws: WebhookVerificationError.missingHeader("webhook-timestamp")) {
            try verifier.verify(id: "msg_1", timestamp: nil, signature: signature, body: body, now: now)
        }
        #expect(throws: WebhookVerificationError.missingHeader("webhook-signature")) {
            try verifier.verify(id: "msg_1", timestamp: String(now), signature: nil, body: body, now: now)
        }
    }

    @Test(arguments: [
        "", "msg 1", "msg\t1", "msg\n1", "msg\u{7}1", "msg\u{85}1", "msg\u{00A0}1", " msg_1",
        String(repeating: "a", count: 257), String(repeating: "é", count: 257), "é msg", "ü\u{7}", "日\u{3000}本",
    ])
    func malformedIds(id: String) {
        let verifier = WebhookVerifier(secrets: [new])
        #expect(throws: WebhookVerificationError.malformedHeader("webhook-id")) {
            try verify(verifier, id: id, signature: sign(new, id: id))
        }
    }

    @Test func idLengthBoundary() throws {
        let verifier = WebhookVerifier(secrets: [new])
        for id in [String(repeating: "a", count: 256), String(repeating: "é", count: 256), "ü"] {
            _ = try verify(verifier, id: id, signature: sign(new, id: id))
        }
    }

    @Test(arguments: ["", "abc", "1.5", "-1700000000", "+1700000000", " 1700000000", "1700000000 ", "1e9",
                      "99999999999999999999999"])
    func malformedTimestamps(timestamp: String) {
        #expect(throws: WebhookVerificationError.malformedHeader("webhook-timestamp")) {
            try verify(WebhookVerifier(secrets: [new]), timestamp: timestamp, signature: sign(new))
        }
    }

    @Test func emptySignatureHeaderIsMalformed() {
        for header in ["", "   "] {
            #expect(throws: WebhookVerificationError.malformedHeader("webhook-signature")) {
                try verify(WebhookVerifier(secrets: [new]), signature: header)
            }
        }
    }

    @Test func toleranceBoundaries() throws {
        let verifier = WebhookVerifier(secrets: [new])
        for offset in [-300, -1, 0, 1, 300] {
            let timestamp = now + offset
            _ = try verify(verifier, timestamp: String(timestamp), signature: sign(new, timestamp: timestamp))
        }
        let past = now - 301
        #expect(throws: WebhookVerificationError.timestampTooOld) {
            try verify(verifier, timestamp: String(past), signature: sign(new, timestamp: past))
        }
        let future = now + 301
        #expect(throws: WebhookVerificationError.timestampTooNew) {
            try verify(verifier, timestamp: String(future), signature: sign(new, timestamp: future))
        }
    }

    @Test func extremeTimestampsFailWithoutTrapping() {
        let verifier = WebhookVerifier(secrets: [new])
        #expect(throws: WebhookVerificationError.timestampTooNew) {
            try verify(verifier, timestamp: String(Int.max), signature: sign(new), now: Int.min)
        }
        #expect(throws: WebhookVerificationError.timestampTooOld) {
            try verify(verifier, timestamp: "0", signature: sign(new), now: Int.max)
        }
    }

    @Test func freshnessIsCheckedBeforeTheSignature() {
        // A stale message is rejected as stale even with a bad signature: no HMAC work for replays.
        #expect(throws: WebhookVerificationError.timestampTooOld) {
            try verify(WebhookVerifier(secrets: [new]), timestamp: String(now - 1000), signature: "v1,AAAA")
        }
    }

    @Test func noSecretsMatchNothing() {
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verify(WebhookVerifier(secrets: []), signature: sign(new))
        }
    }

    @Test func errorDescriptions() {
        #expect(WebhookVerificationError.missingHeader("webhook-id").description == "missing webhook-id header")
        #expect(WebhookVerificationError.malformedHeader("webhook-timestamp").description
            == "malformed webhook-timestamp header")
    }
}
