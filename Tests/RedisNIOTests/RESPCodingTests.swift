import NIOCore
import Redis
import Testing

@testable import RedisNIO

/// RESP requests written into buffers byte for byte, and replies decoded however the bytes are split.
@Suite struct RESPCodingTests {
    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        buffer.writeRESPCommand("SET", "key", "")
        buffer.writeRESPArrayHeader(count: 3)
        buffer.writeRESPBulkString(decimal: 7)
        buffer.writeRESPBulkString(decimal: 1_234_567)
        buffer.writeRESPBulkString(ByteBuffer(bytes: [0, 13, 10, 255]))
        let expected = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n" + "*3\r\n$1\r\n7\r\n$7\r\n1234567\r\n$4\r\n"
        #expect(Array(buffer.readableBytesView) == Array(expected.utf8) + [0, 13, 10, 255] + Array("\r\n".utf8))
    }

    @Test(arguments: [0, 7, 10, 1_796_000_000_123, -42, Int.max, Int.min])
    func theRawWriterEncodesLikeTheBufferWriter(_ value: Int) {
        var expected = ByteBuffer()
        expected.writeRESPBulkString(String(value))
        expected.writeRESPBulkString([0, 13, 10, 255])
        var written = ByteBuffer()
        written.writeWithUnsafeMutableBytes(minimumWritableBytes: 2 * RESPRawWriter.bulkOverhead + RESPRawWriter.maxDecimalBytes + 4) {
            var out = RESPRawWriter($0)
            out.bulk(decimal: value)
            [UInt8]([0, 13, 10, 255]).withUnsafeBytes { out.bulk($0) }
            return out.count
        }
        #expect(Array(written.readableBytesView) == Array(expected.readableBytesView))
    }

    @Test func aBulkStringFromABufferLeavesTheBufferUnread() {
        let body = ByteBuffer(string: #"{"a":1}"#)
        var out = ByteBuffer()
        out.writeRESPBulkString(body)
        #expect(body.readableBytes == 7)
        #expect(String(buffer: out) == "$7\r\n{\"a\":1}\r\n")
    }

    static let replies = "+OK\r\n:42\r\n$3\r\nfoo\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR bad thing\r\n$0\r\n\r\n*0\r\n"
    static let decoded: [RESPValue] = [
        .simpleString("OK"), .integer(42), .bulkString(Array("foo".utf8)), .array([.bulkString([97]), .null]),
        .error("ERR bad thing"), .bulkString([]), .array([]),
    ]

    @Test(arguments: [1, 2, 3, 7, 1000])
    func repliesAreDecodedWhateverTheChunking(_ chunk: Int) throws {
        let parser = try #require(RESPReplyParser())
        let bytes = Array(Self.replies.utf8)
        var values: [RESPValue] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try parser.feed(ByteBuffer(bytes: bytes[offset..<end]))
            while let value = try parser.next() { values.append(value) }
            offset = end
        }
        #expect(values == Self.decoded)
    }

    @Test func aMalformedStreamIsAProtocolError() throws {
        let parser = try #require(RESPReplyParser())
        try parser.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisError.self) { _ = try parser.next() }
        do {
            _ = try parser.next()
        } catch {
            #expect(error.code == .protocol)
        }
    }
}
