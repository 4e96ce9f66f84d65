private import CHiredis
import NIOCore
import Redis

/// Turns the bytes a Redis channel reads into replies, in order, with hiredis's reader as the RESP decoder.
/// Not thread-safe: one parser per connection, used on that connection's event loop.
final class RESPReplyParser {
    private let reader: UnsafeMutablePointer<redisReader>

    /// Nil only when hiredis cannot allocate its reader.
    init?() {
        guard let reader = redisReaderCreate() else { return nil }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands bytes to the reader (it copies them), so `next()` can return the replies they complete.
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if status != REDIS_OK { throw protocolError() }
    }

    /// The next complete reply, or nil when more bytes are needed. A malformed stream throws `.protocol`; the
    /// connection must then be dropped (the reader cannot resynchronise).
    func next() throws(RedisError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw protocolError() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RESPValue(hiredisReply: raw)
    }

    private func protocolError() -> RedisError {
        let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(code: .protocol, message: message.isEmpty ? "malformed reply stream" : message)
    }
}
