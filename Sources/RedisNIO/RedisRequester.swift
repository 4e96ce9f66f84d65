public import NIOCore
public import Redis

/// One caller of a `RedisLoopConnection`: it writes its command when asked and is told the reply, both on the
/// connection's event loop. Replies arrive in the order commands were sent.
public protocol RedisRequester: AnyObject {
    /// Appends the command, RESP-encoded, to `buffer`. Called once per send, and again when the connection resends
    /// it (after reloading scripts that a `NOSCRIPT` reply said were missing).
    func writeCommand(into buffer: inout ByteBuffer)

    /// The command's reply (error replies included, as `.error`), or why none will come: `.connection` when the link
    /// failed or the reply was later than the timeout, `.shutdown` when the connection was closed.
    func redisReplied(_ result: Result<RESPValue, RedisError>)
}

/// Why `RedisLoopConnection.send` refused a command; the requester is not called back for a refused command.
public enum RedisSendRefusal: Error, Sendable, Equatable {
    /// Not connected right now (connecting, backing off after a failure, or closed).
    case unavailable
    /// The per-connection cap on commands awaiting replies is reached.
    case overloaded
}
