import Crypto

/// HMAC-SHA256 (RFC 2104) with both keyed states computed once: a message costs a copy of each state and the hashing
/// of the message and one digest, nothing else (swift-crypto's `HMAC` hashes the padded outer key again for every
/// message and reaches the hash through generic `DataProtocol` calls). Checked against swift-crypto's `HMAC` in tests.
struct HMACSHA256Key {
    private static let blockSize = 64
    /// SHA-256 after absorbing `key ⊕ ipad`.
    private let inner: SHA256
    /// SHA-256 after absorbing `key ⊕ opad`.
    private let outer: SHA256

    init(key: [UInt8]) {
        var block = [UInt8](repeating: 0, count: Self.blockSize)
        if key.count > Self.blockSize {
            // Keys longer than a block are hashed first.
            let digest = SHA256.hash(data: key)
            digest.withUnsafeBytes { digest in
                for (index, byte) in digest.enumerated() { block[index] = byte }
            }
        } else {
            for (index, byte) in key.enumerated() { block[index] = byte }
        }
        var inner = SHA256()
        var outer = SHA256()
        (block.map { $0 ^ 0x36 }).withUnsafeBytes { inner.update(bufferPointer: $0) }
        (block.map { $0 ^ 0x5C }).withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of the concatenation of `parts`, in order.
    func authenticationCode(_ parts: UnsafeRawBufferPointer...) -> SHA256.Digest {
        var inner = self.inner
        for part in parts { inner.update(bufferPointer: part) }
        let innerDigest = inner.finalize()
        var outer = self.outer
        innerDigest.withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}
