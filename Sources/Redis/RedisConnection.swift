import Durations
import Foundation
private import CHiredis

/// One synchronous connection to Redis over hiredis. Blocking: use it on a thread that owns it (see `RedisClient`).
public final class RedisConnection {
    public let configuration: RedisConfiguration
    private var context: UnsafeMutablePointer<redisContext>?

    /// Connects, authenticates and selects the database, or throws a `.connection` error naming the address.
    public init(configuration: RedisConfiguration) throws {
        self.configuration = configuration
        try connect()
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// False once the socket failed or timed out; hiredis cannot use the context again after that.
    public var isConnected: Bool {
        guard let context else { return false }
        return context.pointee.err == 0
    }

    /// Drops the current socket (if any) and connects afresh.
    public func reconnect() throws {
        close()
        try connect()
    }

    /// Closes the socket; the next command fails until `reconnect()`.
    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Runs one command; an error reply is thrown as a `.server` error.
    @discardableResult
    public func send(_ arguments: [RedisArgument]) throws -> RESPValue {
        try append(arguments)
        let reply = try readReply()
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return reply
    }

    /// Runs one command given as strings.
    @discardableResult
    public func send(_ arguments: RedisArgument...) throws -> RESPValue {
        try send(arguments)
    }

    /// Writes every command, then reads every reply in one round trip; error replies come back in place as `.error`.
    public func pipeline(_ commands: [[RedisArgument]]) throws -> [RESPValue] {
        for command in commands { try append(command) }
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Runs a script by digest, loading it with EVAL when the server answers NOSCRIPT; an error reply is thrown.
    @discardableResult
    public func evalScript(_ script: RedisScript, keys: [RedisArgument], args: [RedisArgument]) throws -> RESPValue {
        try append(script.evalSHAArguments(keys: keys, args: args))
        var reply = try readReply()
        if reply.isNoScript {
            try append(script.evalArguments(keys: keys, args: args))
            reply = try readReply()
        }
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        return reply
    }

    // MARK: - Pipelining primitives

    /// Under a cluster's `ASK` redirect (`RedisClusterClient`): every command goes out preceded by `ASKING`, whose `+OK`
    /// `readReply` drops, since `ASKING` admits only the one command after it.
    var asking = false

    /// Queues a command in the output buffer without waiting for its reply (after `ASKING` while `asking`).
    func append(_ arguments: [RedisArgument]) throws {
        if asking { try appendCommand(["ASKING"]) }
        try appendCommand(arguments)
    }

    private func appendCommand(_ arguments: [RedisArgument]) throws {
        guard let context, context.pointee.err == 0 else { throw brokenError() }
        // One contiguous buffer holds every argument; hiredis copies it into its output buffer before returning.
        var lengths = [Int](repeating: 0, count: arguments.count)
        var total = 0
        for (i, argument) in arguments.enumerated() {
            lengths[i] = argument.bytes.count
            total += argument.bytes.count
        }
        var storage = [UInt8]()
        storage.reserveCapacity(total + 1)
        for argument in arguments { storage.append(contentsOf: argument.bytes) }
        storage.append(0)  // never empty, so the buffer always has a base address
        let status: Int32 = storage.withUnsafeBufferPointer { buffer in
            guard let start = buffer.baseAddress else { return REDIS_ERR }
            let base = UnsafeRawPointer(start)
            var offset = 0
            var pointers = [UnsafePointer<CChar>?]()
            pointers.reserveCapacity(arguments.count)
            for length in lengths {
                pointers.append((base + offset).assumingMemoryBound(to: CChar.self))
                offset += length
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lens in
                    redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, lens.baseAddress)
                }
            }
        }
        if status != REDIS_OK { throw brokenError() }
    }

    /// Reads the next reply, flushing the output buffer first if needed (and the `ASKING` reply before it while `asking`).
    func readReply() throws -> RESPValue {
        if asking {
            let askingReply = try readOneReply()
            if case .error(let message) = askingReply { throw RedisError(code: .server, message: message) }
        }
        return try readOneReply()
    }

    private func readOneReply() throws -> RESPValue {
        guard let context, context.pointee.err == 0 else { throw brokenError() }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw brokenError() }
        defer { freeReplyObject(raw) }
        return RESPValue(hiredisReply: raw)
    }

    // MARK: - Internals

    private func connect() throws {
        let timeout = Self.socketTimeout(configuration.connectTimeout)
        guard let newContext = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeout) else {
            throw RedisError(code: .connection, message: "cannot allocate a connection to \(address)")
        }
        if newContext.pointee.err != 0 {
            let message = Self.errorString(newContext)
            redisFree(newContext)
            throw RedisError(code: .connection, message: "\(address): \(message)")
        }
        _ = redisSetTimeout(newContext, Self.socketTimeout(configuration.commandTimeout))
        _ = redisEnableKeepAlive(newContext)
        context = newContext
        do {
            if let password = configuration.password {
                if let username = configuration.username {
                    try send([RedisArgument("AUTH"), RedisArgument(username), RedisArgument(password)])
                } else {
                    try send([RedisArgument("AUTH"), RedisArgument(password)])
                }
            }
            if configuration.database != 0 {
                try send([RedisArgument("SELECT"), RedisArgument(configuration.database)])
            }
        } catch {
            close()
            throw RedisError(code: .connection, message: "\(address): \((error as? RedisError)?.message ?? "\(error)")")
        }
    }

    private var address: String { "\(configuration.host):\(configuration.port)" }

    private func brokenError() -> RedisError {
        guard let context else { return RedisError(code: .connection, message: "not connected to \(address)") }
        let message = context.pointee.err == 0 ? "connection lost" : Self.errorString(context)
        return RedisError(code: .connection, message: "\(address): \(message)")
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func socketTimeout(_ duration: Duration) -> timeval {
        let microseconds = duration.microseconds
        return timeval(tv_sec: .init(microseconds / 1_000_000), tv_usec: .init(microseconds % 1_000_000))
    }
}
