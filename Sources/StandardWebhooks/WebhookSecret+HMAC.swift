import Crypto
import Foundation

extension WebhookSecret {
    /// HMAC-SHA256 over `"{id}.{timestamp}.{body}"`, fed piecewise so the signed content is never copied.
    func authenticationCode(id: String, timestamp: String, body: [UInt8]) -> HMAC<SHA256>.MAC {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
        var id = id
        var timestamp = timestamp
        let dot: [UInt8] = [UInt8(ascii: ".")]
        id.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        dot.withUnsafeBytes { hmac.update(data: $0) }
        timestamp.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        dot.withUnsafeBytes { hmac.update(data: $0) }
        body.withUnsafeBytes { hmac.update(data: $0) }
        return hmac.finalize()
    }
}

extension HashedAuthenticationCode {
    /// Compares with `candidate` in time independent of where the bytes differ (the length is not secret).
    func constantTimeEquals(_ candidate: [UInt8]) -> Bool {
        withUnsafeBytes { mac in
            guard mac.count == candidate.count else { return false }
            return candidate.withUnsafeBytes { (other: UnsafeRawBufferPointer) -> Bool in
                var difference: UInt8 = 0
                for index in 0..<mac.count {
                    difference |= mac[index] ^ other[index]
                }
                return difference == 0
            }
        }
    }
}
