/// Every failure the Redis client reports: a connection problem, a server error reply, or a protocol surprise.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; callers branch on it.
    public enum Code: Sendable, Hashable {
        /// The server could not be reached, the socket broke, or a read timed out (hiredis closes the context then).
        case connection
        /// The server answered with an error reply (`ERR`, `NOGROUP`, `NOSCRIPT`, `BUSYGROUP`, ...).
        case server
        /// A reply had a shape the caller did not expect.
        case `protocol`
        /// The configuration URL is not a `redis://` URL this client understands.
        case invalidURL
        /// The client was shut down before the command ran.
        case shutdown
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// True when the fault lies with the link to Redis, not with the command: retry after reconnecting.
    public var isConnectionError: Bool { code == .connection || code == .shutdown }

    /// The first word of a server error reply (`NOGROUP`, `NOSCRIPT`, ...), if this is one.
    public var serverErrorPrefix: Substring? {
        guard code == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first
    }

    public var description: String {
        switch code {
        case .connection: return "Redis connection error: \(message)"
        case .server: return "Redis error: \(message)"
        case .protocol: return "unexpected Redis reply: \(message)"
        case .invalidURL: return "invalid Redis URL: \(message)"
        case .shutdown: return "Redis client shut down: \(message)"
        }
    }

    /// A reply of the wrong shape, described by its shape only: replies can carry webhook bodies, which must never
    /// reach an error message (and so a log line).
    package static func unexpected(_ what: String, _ value: RESPValue) -> RedisError {
        RedisError(code: .protocol, message: "expected \(what), got \(value.kindDescription)")
    }
}
