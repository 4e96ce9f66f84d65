#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TestSupport

/// One HTTP/1.1 exchange per call over a fresh TCP connection to 127.0.0.1, sent from a loopback source address of
/// our choosing. A different source (127.0.0.2) is how the proxy tests tell "the client nginx saw" apart from
/// "nginx itself" (127.0.0.1) in the gateway's logs; URLSession cannot bind a source address.
enum LoopbackHTTPClient {
    /// What came back: status, headers (names lowercased) and body.
    struct Reply: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        /// The first value of header `name` (case-insensitive).
        func header(_ name: String) -> String? {
            let name = name.lowercased()
            return headers.first { $0.name == name }?.value
        }
    }

    /// Sends one request with `Connection: close` and reads the reply to end of stream.
    static func exchange(
        port: Int,
        from source: String = "127.0.0.1",
        method: String,
        path: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) throws(TestSupportError) -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError(.commandFailed, "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var local = try address(source, port: 0)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError(.commandFailed, "bind to \(source) failed: errno \(errno)") }
        var remote = try address("127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSupportError(.commandFailed, "connect to 127.0.0.1:\(port) failed: errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if !body.isEmpty || method == "POST" {
            head += "Content-Length: \(body.count)\r\n"
        }
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        // A server may refuse early (nginx's 413 after the headers) and close while the body is still going out:
        // stop writing then, and read whatever it answered.
        _ = writeAll(fd, Array(head.utf8) + body)

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else {
                // 0 is the end of the reply; an error after a complete reply (a reset) changes nothing.
                if count < 0 && received.isEmpty {
                    throw TestSupportError(.commandFailed, "no reply from 127.0.0.1:\(port): errno \(errno)")
                }
                break
            }
        }
        return try parse(received)
    }

    /// Writing to a connection the server already closed must fail with EPIPE, not kill the test runner with SIGPIPE.
    #if os(Linux)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let noSignal: Int32 = 0
    #endif

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, noSignal) }
            guard sent > 0 else { return false }
            offset += sent
        }
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

    /// Status line, headers, then the body (to Content-Length when given, else to end of stream).
    static func parse(_ bytes: [UInt8]) throws(TestSupportError) -> Reply {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw TestSupportError(.commandFailed, "incomplete HTTP reply: \(String(decoding: bytes, as: UTF8.self))")
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        var body = Array(bytes[(end + separator.count)...])
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
        if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }), length < body.count {
            body = Array(body.prefix(length))
        }
        return Reply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }
}
