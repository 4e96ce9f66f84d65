import Crypto

/// A Lua script run with EVALSHA, falling back to EVAL when the server has not cached it (NOSCRIPT).
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lower-case hex SHA-1 of the source, as EVALSHA expects.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        // Redis names cached scripts by SHA-1; nothing secret depends on it.
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    func evalSHAArguments(keys: [RedisArgument], args: [RedisArgument]) -> [RedisArgument] {
        [RedisArgument("EVALSHA"), RedisArgument(sha1), RedisArgument(keys.count)] + keys + args
    }

    func evalArguments(keys: [RedisArgument], args: [RedisArgument]) -> [RedisArgument] {
        [RedisArgument("EVAL"), RedisArgument(source), RedisArgument(keys.count)] + keys + args
    }
}

extension RESPValue {
    var isNoScript: Bool {
        if case .error(let m) = self { return m.hasPrefix("NOSCRIPT") }
        return false
    }
}
