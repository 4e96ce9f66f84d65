import Crypto
import Foundation

extension WebhookSecret {
    /// HMAC-SHA256 over `"{id}.{timestamp}.{body}"`; the body is read in place, never copied.
    func authenticationCode(id: String, timestamp: String, body: UnsafeRawBufferPointer) -> SHA256.Digest {
        Self.authenticationCode(keyed: keyedHMAC(), id: id, timestamp: timestamp, body: body)
    }

    /// This secret's keyed HMAC states, to be reused for every message (keying hashes the padded key twice).
    func keyedHMAC() -> HMACSHA256Key {
        HMACSHA256Key(key: keyBytes)
    }

    /// The MAC of one message under an already keyed HMAC.
    static func authenticationCode(
        keyed: HMACSHA256Key, id: String, timestamp: String, body: UnsafeRawBufferPointer
    ) -> SHA256.Digest {
        var id = id
        var timestamp = timestamp
        // One contiguous "{id}.{timestamp}." prefix, then the body.
        return id.withUTF8 { id in
            timestamp.withUTF8 { timestamp in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: id.count + timestamp.count + 2) { prefix in
                    var index = prefix.initialize(fromContentsOf: id)
                    prefix[index] = UInt8(ascii: ".")
                    index += 1
                    index = UnsafeMutableBufferPointer(rebasing: prefix[index...]).initialize(fromContentsOf: timestamp) + index
                    prefix[index] = UInt8(ascii: ".")
                    return keyed.authenticationCode(UnsafeRawBufferPointer(prefix), body)
                }
            }
        }
    }
}

extension SHA256.Digest {
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
