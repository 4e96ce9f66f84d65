import Crypto
import Testing

@testable import StandardWebhooks

/// The precomputed-state HMAC agrees with swift-crypto's `HMAC<SHA256>` for keys shorter than, equal to and longer
/// than a block, and messages of every length around the block boundaries, however the message is split.
@Suite struct HMACSHA256KeyTests {
    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    @Test(arguments: [1, 16, 32, 63, 64, 65, 100, 200])
    func agreesWithSwiftCrypto(keyLength: Int) {
        let key = Self.bytes(keyLength, seed: UInt8(truncatingIfNeeded: keyLength))
        let ours = HMACSHA256Key(key: key)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000] {
            let message = Self.bytes(length, seed: 7)
            let reference = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
            let split = length / 3
            let mac = message.withUnsafeBytes { all in
                ours.authenticationCode(UnsafeRawBufferPointer(rebasing: all[..<split]), UnsafeRawBufferPointer(rebasing: all[split...]))
            }
            #expect(Array(mac) == Array(reference), "key \(keyLength) bytes, message \(length) bytes")
        }
    }
}
