/// Strict RFC 4648 base64 decoding (standard alphabet, padding required).
///
/// Foundation's decoder on Linux accepts padding in the middle ("YW=j") and a lone "====", which would let
/// malformed secrets through; this one rejects anything that is not well-formed.
enum Base64 {
    /// The decoded bytes, or nil unless `text` is whole 4-character groups with `=` only as final padding.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        // Header values are contiguous UTF-8: decode straight from their bytes (the generic walk is several times slower).
        if let decoded = text.withContiguousStorageIfAvailable({ decode(bytes: $0) }) { return decoded }
        return Array(text).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    private static func decode(bytes text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3)
        var group: UInt32 = 0
        var filled = 0
        var padding = 0
        for char in text {
            if char == UInt8(ascii: "=") {
                padding += 1
                guard padding <= 2 else { return nil }
                group <<= 6
                filled += 1
            } else {
                // Data after padding means the padding was not final.
                guard padding == 0, let value = sextet(char) else { return nil }
                group = group << 6 | UInt32(value)
                filled += 1
            }
            if filled == 4 {
                output.append(UInt8(truncatingIfNeeded: group >> 16))
                output.append(UInt8(truncatingIfNeeded: group >> 8))
                output.append(UInt8(truncatingIfNeeded: group))
                group = 0
                filled = 0
            }
        }
        output.removeLast(padding)
        return output
    }

    private static func sextet(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): char - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): char - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
