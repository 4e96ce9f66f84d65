import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 and a kernel-chosen port, for what lies outside Docket (a scripted Help Desk,
/// webhook callbacks, the servers curl talks to): a thread per connection, keep-alive, every request recorded,
/// answers from a handler (nil = never answer, like a hung server).
public final class FakeHTTPServer: Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// The request line and headers as received, without the blank line.
        public var head: [UInt8]
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: [UInt8]
        /// When the request was fully read.
        public var receivedAt: ContinuousClock.Instant
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// Sent before the response as is: an interim (1xx) response, say.
        public var preamble: [UInt8]

        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], preamble: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
            self.preamble = preamble
        }

        public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
        }
    }

    public let port: Int
    private let listener: Int32
    /// Whether `listener` is still open. `stop()` may run twice (a test's `defer`, then `deinit`) and after the accept
    /// loop has closed the socket; shutting down a closed descriptor would hit whatever socket reused its number
    /// (another test's database connection, say), so shutdown and close both happen under this lock.
    private let listenerOpen = Mutex(true)
    private let handler: @Sendable (Request) -> Response?
    private let connections = Mutex<Set<Int32>>([])
    private let recorded = Mutex<[Request]>([])

    /// Starts listening; `handler` answers each request (nil leaves it unanswered until the client gives up).
    public init(handler: @escaping @Sendable (Request) -> Response?) throws {
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
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        stop()
    }

    /// The server's base URL.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The full URL of `path` on this server.
    public func url(_ path: String) -> String {
        url + path
    }

    /// Every request received so far, in arrival order.
    public var requests: [Request] { recorded.withLock { $0 } }

    /// Stops accepting and cuts open connections (threads blocked on them return).
    public func stop() {
        // shutdown() (unlike close()) wakes a thread blocked in accept() or read().
        listenerOpen.withLock { open in
            if open { _ = shutdown(listener, Int32(SHUT_RDWR)) }
        }
        connections.withLock { open in
            for fd in open { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
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
        listenerOpen.withLock { open in
            close(listener)
            open = false
        }
    }

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        while let request = readRequest(fd, &buffer) {
            recorded.withLock { $0.append(request) }
            guard let response = handler(request) else {
                // Hang: read until the client closes the connection (its timeout) or the server stops.
                var scratch = [UInt8](repeating: 0, count: 4096)
                while read(fd, &scratch, scratch.count) > 0 {}
                return
            }
            var head = "HTTP/1.1 \(response.status) Fake\r\nContent-Length: \(response.body.count)\r\n"
            for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            guard send(fd, response.preamble + Array(head.utf8) + response.body) else { return }
            if request.headers["connection"]?.lowercased() == "close" { return }
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Self.sendBytes(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    private static func sendBytes(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
        #elseif canImport(Musl)
        Musl.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
        #else
        Darwin.send(fd, pointer, count, 0)
        #endif
    }

    /// Reads one request (head and Content-Length body); nil at end of stream.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find(separator, in: buffer)
            if headEnd == nil, !fill(fd, &buffer) { return nil }
        }
        guard let headEnd else { return nil }
        let lines = String(decoding: buffer[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ").map(String.init) ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyLength = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd + separator.count
        while buffer.count < bodyStart + bodyLength {
            guard fill(fd, &buffer) else { return nil }
        }
        let head = Array(buffer[..<headEnd])
        let body = Array(buffer[bodyStart..<(bodyStart + bodyLength)])
        buffer.removeFirst(bodyStart + bodyLength)
        return Request(method: requestLine[0], path: requestLine[1], head: head, headers: headers, body: body, receivedAt: .now)
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
