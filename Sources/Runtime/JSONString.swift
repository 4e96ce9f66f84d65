/// JSON string literals written by hand, for output built without an encoder: the gateway's answers and the JSON log
/// lines. The one escaper in Docket.
public enum JSONString {
    /// Writes `text` as a JSON string literal, quotes included, escaping what RFC 8259 requires (`"`, `\`, control
    /// characters) and DEL. Calls `write` with consecutive pieces of UTF-8: runs that need no escaping whole, so the usual
    /// id or message costs one call or three.
    public static func write(_ text: String, _ write: (UnsafeRawBufferPointer) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            withUnsafeBytes(of: UInt8(ascii: "\"")) { write($0) }
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if runStart < index { write(UnsafeRawBufferPointer(rebasing: raw[runStart..<index])) }
                runStart = index + 1
                let escape: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
                let length: Int
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): (escape, length) = ((UInt8(ascii: "\\"), byte, 0, 0, 0, 0), 2)
                case UInt8(ascii: "\n"): (escape, length) = ((UInt8(ascii: "\\"), UInt8(ascii: "n"), 0, 0, 0, 0), 2)
                case UInt8(ascii: "\r"): (escape, length) = ((UInt8(ascii: "\\"), UInt8(ascii: "r"), 0, 0, 0, 0), 2)
                case UInt8(ascii: "\t"): (escape, length) = ((UInt8(ascii: "\\"), UInt8(ascii: "t"), 0, 0, 0, 0), 2)
                default:
                    escape = (UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                              hexDigit(byte >> 4), hexDigit(byte & 0xF))
                    length = 6
                }
                withUnsafeBytes(of: escape) { write(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            }
            if runStart < bytes.count { write(UnsafeRawBufferPointer(rebasing: raw[runStart..<raw.count])) }
            withUnsafeBytes(of: UInt8(ascii: "\"")) { write($0) }
        }
    }

    /// `text` as a JSON string literal.
    public static func literal(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        write(text) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
