/// HTTP's case-insensitive tokens (header names, `100-continue`, media types), compared without lower-casing a copy.
enum ASCII {
    /// Whether `bytes` equal the lower-case literal `lowercase`, ignoring ASCII case (enough for these tokens).
    static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            var index = 0
            for byte in bytes {
                let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                guard lower == expected[index] else { return false }
                index += 1
            }
            return true
        }
    }
}
