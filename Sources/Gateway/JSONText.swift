import NIOCore

/// Hand-written JSON output for the gateway's small, fixed-shape answers (no encoder on the hot path).
enum JSONText {
    private static let hex: StaticString = "0123456789abcdef"

    /// Appends `text` as a JSON string literal, quotes included, escaping what RFC 8259 requires.
    static func appendString(_ text: String, to out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "\""))
        // The usual id needs no escaping: write it whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.writeString(text)
            out.writeInteger(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.writeInteger(UInt8(ascii: "\\"))
                out.writeInteger(byte)
            case UInt8(ascii: "\n"): out.writeStaticString("\\n")
            case UInt8(ascii: "\r"): out.writeStaticString("\\r")
            case UInt8(ascii: "\t"): out.writeStaticString("\\t")
            case 0..<0x20, 0x7F:
                out.writeStaticString("\\u00")
                hex.withUTF8Buffer { digits in
                    out.writeInteger(digits[Int(byte >> 4)])
                    out.writeInteger(digits[Int(byte & 0xF)])
                }
            default: out.writeInteger(byte)
            }
        }
        out.writeInteger(UInt8(ascii: "\""))
    }
}
