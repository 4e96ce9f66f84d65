#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ports handed out by this process, so two callers never get the same one.
private let handedOut = Mutex<Set<Int>>([])

/// A TCP port on 127.0.0.1 that was free a moment ago. Taken below the kernel's ephemeral range (32768 and up on
/// Linux), so outgoing connections — which take ephemeral ports — cannot grab it before the server binds it.
public func freePort() -> Int {
    for _ in 0..<1000 {
        let port = Int.random(in: 20_000..<32_768)
        let fresh = handedOut.withLock { $0.insert(port).inserted }
        if fresh, canBind(port) { return port }
    }
    return Int.random(in: 20_000..<32_768)
}

/// Whether 127.0.0.1:port can be bound right now.
private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopbackAddress(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// 127.0.0.1:port as a C socket address.
func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// Sends one inline command to 127.0.0.1:port and returns the first reply line, or nil if nothing answered.
/// Enough to ask a Redis server for PING without depending on our Redis module.
func redisInlineCommand(port: Int, _ command: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = Array((command + "\r\n").utf8)
    let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    guard sent == request.count else { return nil }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 256)
    while !reply.contains(UInt8(ascii: "\n")) {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        reply.append(contentsOf: buffer[0..<count])
    }
    let line = reply.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
    return String(decoding: line, as: UTF8.self)
}
