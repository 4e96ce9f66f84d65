/// Writes RESP pieces into memory already reserved (see `ByteBuffer.writeWithUnsafeMutableBytes`), so a command of
/// many arguments costs one capacity check instead of one per piece. The caller reserves enough: each bulk string
/// needs its bytes plus `RESPRawWriter.bulkOverhead`, each decimal at most `maxDecimalBytes`.
public struct RESPRawWriter {
    /// `$`, up to 20 length digits, and two CRLFs.
    public static let bulkOverhead = 25
    /// The longest ASCII decimal of an `Int`, sign included.
    public static let maxDecimalBytes = 20

    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    /// Bytes written so far.
    public private(set) var count = 0

    public init(_ memory: UnsafeMutableRawBufferPointer) {
        // A zero-capacity region may have no base address; nothing can be written to it then.
        base = memory.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
        capacity = memory.count
    }

    /// Raw bytes, as they are (pre-encoded pieces of a command).
    public mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= capacity, "RESPRawWriter: reserved memory exceeded")
        if let source = bytes.baseAddress, bytes.count > 0 {
            (base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    /// Raw bytes from an array.
    public mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw($0) }
    }

    /// `$<length>\r\n<bytes>\r\n`.
    public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        bulkHeader(length: bytes.count)
        raw(bytes)
        crlf()
    }

    /// `$<length>\r\n`, the head of a bulk string whose bytes the caller writes next (then `crlf()`).
    public mutating func bulkHeader(length: Int) {
        byte(UInt8(ascii: "$"))
        decimal(length)
        crlf()
    }

    /// A bulk string holding `value` in ASCII decimal.
    public mutating func bulk(decimal value: Int) {
        Self.withDecimal(value) { bulk($0) }
    }

    public mutating func crlf() {
        byte(UInt8(ascii: "\r"))
        byte(UInt8(ascii: "\n"))
    }

    private mutating func byte(_ value: UInt8) {
        precondition(count < capacity, "RESPRawWriter: reserved memory exceeded")
        base.storeBytes(of: value, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    private mutating func decimal(_ value: Int) {
        Self.withDecimal(value) { raw($0) }
    }

    /// Calls `body` with `value`'s ASCII decimal digits, formatted in 24 bytes of stack scratch.
    private static func withDecimal(_ value: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        var digits = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &digits) { scratch in
            let length = formatDecimal(value, into: scratch)
            body(UnsafeRawBufferPointer(rebasing: scratch[(scratch.count - length)...]))
        }
    }

    /// Writes `value`'s decimal digits right-aligned at the end of `scratch` (24 bytes); returns how many.
    private static func formatDecimal(_ value: Int, into scratch: UnsafeMutableRawBufferPointer) -> Int {
        var magnitude = value.magnitude
        var index = scratch.count
        repeat {
            index -= 1
            scratch[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            index -= 1
            scratch[index] = UInt8(ascii: "-")
        }
        return scratch.count - index
    }
}
