import Foundation
import Glibc
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 and a kernel-chosen port, a thread per connection, keep-alive.
///
/// Routes: `/echo` (body back, `X-Method`, `X-Body-Length`), `/head` (the raw request head as the body),
/// `/status/N` (status N with `X-Custom-Header`), `/delay/MS` (answers after MS milliseconds),
/// `/hang` (reads the request, never answers), `/interim` (a 1xx response with its own header, then 200).
final class LocalHTTPServer: Sendable {
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let listener: Int32
    /// Open connection sockets; `stop()` shuts them down so blocked threads return.
    private let connections = Mutex<Set<Int32>>([])

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StartError(description: "bind/listen on 127.0.0.1: \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test-http-accept"
        thread.start()
    }

    /// The full URL of a path on this server.
    func url(_ path: String) -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// Stops accepting and cuts every open connection.
    func stop() {
        // shutdown() (unlike close()) wakes a thread blocked in accept() or read() on Linux.
        _ = Glibc.shutdown(listener, Int32(SHUT_RDWR))
        connections.withLock { open in
            for fd in open { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// A port on 127.0.0.1 that nothing listens on: bound, then released without listening.
    static func refusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw StartError(description: "bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                break
            }
            connections.withLock { _ = $0.insert(fd) }
            let thread = Thread { [self] in
                serve(fd)
                connections.withLock { _ = $0.remove(fd) }
                close(fd)
            }
            thread.start()
        }
        close(listener)
    }

    // MARK: - One connection

    private struct Request {
        var method: String
        var path: String
        var head: [UInt8]
        var headers: [String: String]
        var body: [UInt8]
    }

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        while let request = readRequest(fd, &buffer) {
            if request.path == "/hang" {
                // Never answer: wait until the client gives up (or the server stops).
                var scratch = [UInt8](repeating: 0, count: 4096)
                while read(fd, &scratch, scratch.count) > 0 {}
                return
            }
            guard respond(to: request, on: fd) else { return }
            if request.headers["connection"]?.lowercased() == "close" { return }
        }
    }

    private func respond(to request: Request, on fd: Int32) -> Bool {
        let parts = request.path.split(separator: "/").map(String.init)
        switch parts.first {
        case "echo":
            return write(fd, status: 200, headers: [("X-Method", request.method), ("X-Body-Length", "\(request.body.count)")], body: request.body)
        case "head":
            return write(fd, status: 200, headers: [], body: request.head)
        case "status":
            let status = parts.count > 1 ? Int(parts[1]) ?? 500 : 500
            return write(fd, status: status, headers: [("X-Custom-Header", "Custom Value")], body: Array("status \(status)".utf8))
        case "delay":
            let milliseconds = parts.count > 1 ? UInt32(parts[1]) ?? 0 : 0
            usleep(milliseconds * 1000)
            return write(fd, status: 200, headers: [], body: Array("delayed".utf8))
        case "interim":
            guard send(fd, Array("HTTP/1.1 102 Processing\r\nX-Interim: yes\r\n\r\n".utf8)) else { return false }
            return write(fd, status: 200, headers: [("X-Final", "yes")], body: Array("final".utf8))
        default:
            return write(fd, status: 404, headers: [], body: Array("not found".utf8))
        }
    }

    private func write(_ fd: Int32, status: Int, headers: [(String, String)], body: [UInt8]) -> Bool {
        var head = "HTTP/1.1 \(status) Test\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return send(fd, Array(head.utf8) + body)
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads one request (head and Content-Length body); nil at end of stream.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if let end = Self.find(separator, in: buffer) {
                headEnd = end
                break
            }
            guard fill(fd, &buffer) else { return nil }
        }
        guard let headEnd else { return nil }
        let head = Array(buffer[..<headEnd])
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ").map(String.init) ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyLength = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd + separator.count
        while buffer.count < bodyStart + bodyLength {
            guard fill(fd, &buffer) else { return nil }
        }
        let body = Array(buffer[bodyStart..<(bodyStart + bodyLength)])
        buffer.removeFirst(bodyStart + bodyLength)
        return Request(method: requestLine[0], path: requestLine[1], head: head, headers: headers, body: body)
    }

    private func fill(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
