import Testing
import TestSupport
import StandardWebhooks

/// Property: for random messages, changing any single byte of the body, id or timestamp breaks verification.
@Suite struct WebhookTamperingTests {
    let secret = try! WebhookSecret(SpecVector.secret)

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everySingleByteChangeFails(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let idAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".utf8)
        let id = String(decoding: (0..<Int.random(in: 1...40, using: &rng)).map { _ in
            idAlphabet.randomElement(using: &rng)!
        }, as: UTF8.self)
        let timestamp = Int.random(in: 1_000_000_000...2_000_000_000, using: &rng)
        let body = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let signature = WebhookSigner(secret: secret).signature(id: id, timestamp: timestamp, body: body)
        let verifier = WebhookVerifier(secrets: [secret], tolerance: Int.max)
        let stamp = String(timestamp)

        _ = try verifier.verify(id: id, timestamp: stamp, signature: signature, body: body, now: timestamp)

        for index in body.indices {
            var tampered = body
            tampered[index] ^= UInt8.random(in: 1...255, using: &rng)
            #expect(throws: WebhookVerificationError.self, "seed \(seed), body byte \(index)") {
                try verifier.verify(id: id, timestamp: stamp, signature: signature, body: tampered, now: timestamp)
            }
        }
        for (index, tampered) in Self.singleByteVariants(of: id, rng: &rng).enumerated() {
            #expect(throws: WebhookVerificationError.self, "seed \(seed), id byte \(index)") {
                try verifier.verify(id: tampered, timestamp: stamp, signature: signature, body: body, now: timestamp)
            }
        }
        for (index, tampered) in Self.singleByteVariants(of: stamp, rng: &rng).enumerated() {
            #expect(throws: WebhookVerificationError.self, "seed \(seed), timestamp byte \(index)") {
                try verifier.verify(id: id, timestamp: tampered, signature: signature, body: body, now: timestamp)
            }
        }
    }

    /// For each byte position, the string with that byte changed to another printable ASCII byte.
    static func singleByteVariants(of text: String, rng: inout SplitMix64) -> [String] {
        let bytes = Array(text.utf8)
        return bytes.indices.map { index in
            var changed = bytes
            repeat {
                changed[index] = UInt8.random(in: 0x21...0x7E, using: &rng)
            } while changed[index] == bytes[index]
            return String(decoding: changed, as: UTF8.self)
        }
    }
}
