#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One HTTP/1.1 exchange per call over a fresh TCP connection to 127.0.0.1, sent from a loopback source address of
/// our choosing. A different source (127.0.0.2) is how the proxy tests tell "the client nginx saw" apart from
/// "nginx itself" (127.0.0.1) in the gateway's logs; URLSession cannot bind a source address.
public enum LoopbackHTTPClient {
    /// What came back: status, headers (names lowercased) and body.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: String

        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            let name = name.lowercased()
            return headers.first { $0.name == name }?.value
        }
    }

    /// Sends one request with `Connection: close` and reads the reply to end of stream.
    public static func exchange(
        port: Int,
        from source: String = "127.0.0.1",
        method: String,
        path: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) throws(TestSupportError) -> Reply {
        let connection = try LoopbackConnection(port: port, from: source)
        defer { connection.close() }
        // A server may refuse early (nginx's 413 after the headers) and close while the body is still going out:
        // stop writing then, and read whatever it answered.
        connection.send(request(port: port, method: method, path: path, headers: headers + [("Connection", "close")], body: body))
        let received = connection.readToEnd()
        if received.isEmpty {
            throw TestSupportError(.commandFailed, "no reply from 127.0.0.1:\(port)")
        }
        return try parse(received)
    }

    /// A request's bytes: request line, `Host`, `Content-Length` for a body or a POST, the headers, the body.
    public static func request(
        port: Int, method: String, path: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        if !body.isEmpty || method == "POST" {
            head += "Content-Length: \(body.count)\r\n"
        }
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// Status line, headers, then the body (to Content-Length when given, else to end of stream).
    public static func parse(_ bytes: [UInt8]) throws(TestSupportError) -> Reply {
        guard let (reply, _) = try parseOne(bytes[...], toEndOfStream: true) else {
            throw TestSupportError(.commandFailed, "incomplete HTTP reply: \(String(decoding: bytes, as: UTF8.self))")
        }
        return reply
    }

    /// Every complete reply at the start of `bytes` (each must carry Content-Length), in order.
    public static func parseAll(_ bytes: [UInt8]) throws(TestSupportError) -> [Reply] {
        var rest = bytes[...]
        var replies: [Reply] = []
        while let (reply, remainder) = try parseOne(rest, toEndOfStream: false) {
            replies.append(reply)
            rest = remainder
        }
        return replies
    }

    /// One reply and what follows it; nil when `bytes` does not hold a complete one yet.
    static func parseOne(_ bytes: ArraySlice<UInt8>, toEndOfStream: Bool) throws(TestSupportError) -> (Reply, ArraySlice<UInt8>)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let bodyStart = end + separator.count
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestSupportError(.commandFailed, "bad status line in \(head)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name: name, value: value))
        }
        let bodyEnd: Int
        if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }) {
            guard bytes.endIndex - bodyStart >= length else { return toEndOfStream ? (Reply(status: status, headers: headers, body: String(decoding: bytes[bodyStart...], as: UTF8.self)), []) : nil }
            bodyEnd = bodyStart + length
        } else if status == 100 || toEndOfStream {
            bodyEnd = status == 100 ? bodyStart : bytes.endIndex
        } else {
            throw TestSupportError(.commandFailed, "reply without Content-Length: \(head)")
        }
        let reply = Reply(status: status, headers: headers, body: String(decoding: bytes[bodyStart..<bodyEnd], as: UTF8.self))
        return (reply, bytes[bodyEnd...])
    }
}

/// A raw TCP connection to 127.0.0.1 for tests that need control over what goes on the wire: several requests in one
/// write, a body trickled byte by byte, a client that vanishes before its answer. Blocking, with timeouts.
public final class LoopbackConnection {
    private var fd: Int32
    private var received: [UInt8] = []
    /// Bytes of `received` already returned as replies by `nextReply`.
    private var consumed = 0

    /// Connects from `source` (a loopback address) to `127.0.0.1:port`; reads and writes time out after `timeout`.
    public init(port: Int, from source: String = "127.0.0.1", timeout: Duration = .seconds(10)) throws(TestSupportError) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError(.commandFailed, "socket() failed: errno \(errno)") }
        let (seconds, attoseconds) = timeout.components
        var time = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        do throws(TestSupportError) {
            var local = try Self.address(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw TestSupportError(.commandFailed, "bind to \(source) failed: errno \(errno)") }
            var remote = try Self.address("127.0.0.1", port: port)
            let connected = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw TestSupportError(.commandFailed, "connect to 127.0.0.1:\(port) failed: errno \(errno)") }
        } catch {
            closeDescriptor(fd)
            fd = -1
            throw error
        }
    }

    deinit { close() }

    /// How long a read waits before giving up (reads then report what they have).
    public func setReadTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var time = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writing to a connection the server already closed must fail with EPIPE, not kill the test runner with SIGPIPE.
    #if os(Linux)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let noSignal: Int32 = 0
    #endif

    /// Writes all of `bytes`; false when the peer closed or the write timed out.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { sendBytes(fd, $0, Self.noSignal) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads until `count` complete replies arrived (a `100 Continue` is skipped), the peer closed, or a read timed out.
    public func readReplies(_ count: Int) throws(TestSupportError) -> [LoopbackHTTPClient.Reply] {
        while true {
            let replies = try LoopbackHTTPClient.parseAll(received).filter { $0.status != 100 }
            if replies.count >= count { return replies }
            guard receiveSome() else { return replies }
        }
    }

    /// The next complete reply (a `100 Continue` is skipped), reading as needed; nil when the connection ended or a
    /// read timed out first (then `unconsumedBytes` tells whether part of a reply had arrived).
    public func nextReply() -> LoopbackHTTPClient.Reply? {
        while true {
            if let (reply, rest) = try? LoopbackHTTPClient.parseOne(received[consumed...], toEndOfStream: false) {
                consumed = rest.startIndex
                if reply.status == 100 { continue }
                return reply
            }
            guard receiveSome() else { return nil }
        }
    }

    /// Bytes received that are not part of a reply returned by `nextReply`.
    public var unconsumedBytes: Int { received.count - consumed }

    /// Everything until the peer closes (or a read fails).
    public func readToEnd() -> [UInt8] {
        while receiveSome() {}
        return received
    }

    /// Every byte received so far.
    public var bytesReceived: [UInt8] { received }

    public func close() {
        if fd >= 0 {
            closeDescriptor(fd)
            fd = -1
        }
    }

    private func receiveSome() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        received.append(contentsOf: buffer[0..<count])
        return true
    }

    private static func address(_ text: String, port: Int) throws(TestSupportError) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else {
            throw TestSupportError(.commandFailed, "\(text) is not an IPv4 address")
        }
        return address
    }
}

// File-scope wrappers: inside `LoopbackConnection`, `close` and `send` name its own methods.
private func closeDescriptor(_ fd: Int32) {
    close(fd)
}

private func sendBytes(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ flags: Int32) -> Int {
    send(fd, bytes.baseAddress, bytes.count, flags)
}
