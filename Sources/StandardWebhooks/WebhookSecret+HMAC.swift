import Crypto
import Foundation

extension WebhookSecret {
    /// HMAC-SHA256 over `"{id}.{timestamp}.{body}"`; the body is read in place, never copied.
    func authenticationCode(id: String, timestamp: String, body: UnsafeRawBufferPointer) -> HMAC<SHA256>.MAC {
        Self.authenticationCode(keyed: keyedHMAC(), id: id, timestamp: timestamp, body: body)
    }

    /// A fresh HMAC keyed with this secret, to be copied per message (keying hashes the padded key once).
    func keyedHMAC() -> HMAC<SHA256> {
        HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
    }

    /// Finishes a copy of an already keyed HMAC over the signed content.
    static func authenticationCode(
        keyed: HMAC<SHA256>, id: String, timestamp: String, body: UnsafeRawBufferPointer
    ) -> HMAC<SHA256>.MAC {
        var hmac = keyed
        var id = id
        var timestamp = timestamp
        // One contiguous "{id}.{timestamp}." prefix and the body: two updates, not five (each one walks a
        // DataProtocol's regions generically), and no copy of the body.
        id.withUTF8 { id in
            timestamp.withUTF8 { timestamp in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: id.count + timestamp.count + 2) { prefix in
                    var index = prefix.initialize(fromContentsOf: id)
                    prefix[index] = UInt8(ascii: ".")
                    index += 1
                    index = UnsafeMutableBufferPointer(rebasing: prefix[index...]).initialize(fromContentsOf: timestamp) + index
                    prefix[index] = UInt8(ascii: ".")
                    hmac.update(data: UnsafeRawBufferPointer(prefix))
                }
            }
        }
        hmac.update(data: body)
        return hmac.finalize()
    }
}

extension MessageAuthenticationCode {
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
