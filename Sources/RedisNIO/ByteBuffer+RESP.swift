public import NIOCore

/// RESP request encoding straight into a `ByteBuffer`: a command is an array of bulk strings.
extension ByteBuffer {
    /// `*<count>\r\n`, the header of a command with `count` arguments.
    public mutating func writeRESPArrayHeader(count: Int) {
        writeInteger(UInt8(ascii: "*"))
        writeDecimal(count)
        writeCRLF()
    }

    /// One bulk-string argument from raw bytes.
    public mutating func writeRESPBulkString(_ bytes: UnsafeRawBufferPointer) {
        writeBulkLength(bytes.count)
        writeBytes(bytes)
        writeCRLF()
    }

    /// One bulk-string argument from pre-encoded bytes.
    public mutating func writeRESPBulkString(_ bytes: [UInt8]) {
        writeBulkLength(bytes.count)
        writeBytes(bytes)
        writeCRLF()
    }

    /// One bulk-string argument from a string's UTF-8.
    public mutating func writeRESPBulkString(_ text: String) {
        writeBulkLength(text.utf8.count)
        writeString(text)
        writeCRLF()
    }

    /// One bulk-string argument from another buffer's readable bytes (the buffer is not moved).
    public mutating func writeRESPBulkString(_ buffer: ByteBuffer) {
        writeBulkLength(buffer.readableBytes)
        writeImmutableBuffer(buffer)
        writeCRLF()
    }

    /// One bulk-string argument holding `value` in ASCII decimal.
    public mutating func writeRESPBulkString(decimal value: Int) {
        writeRESPBulkString(String(value))
    }

    /// A whole command from literal arguments, e.g. `PING` or `XLEN key`.
    public mutating func writeRESPCommand(_ arguments: String...) {
        writeRESPArrayHeader(count: arguments.count)
        for argument in arguments { writeRESPBulkString(argument) }
    }

    private mutating func writeBulkLength(_ length: Int) {
        writeInteger(UInt8(ascii: "$"))
        writeDecimal(length)
        writeCRLF()
    }

    private mutating func writeDecimal(_ value: Int) {
        if value >= 0 && value < 10 {
            writeInteger(UInt8(ascii: "0") + UInt8(value))
        } else {
            writeString(String(value))
        }
    }

    private mutating func writeCRLF() {
        writeInteger(UInt16(0x0D0A))  // "\r\n", big-endian
    }
}
