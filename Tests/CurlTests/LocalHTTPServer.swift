import Foundation
import TestSupport

/// The server curl is tested against: `FakeHTTPServer` with fixed routes.
///
/// Routes: `/echo` (body back, `X-Method`, `X-Body-Length`), `/head` (the raw request head as the body),
/// `/status/N` (status N with `X-Custom-Header`), `/delay/MS` (answers after MS milliseconds),
/// `/hang` (reads the request, never answers), `/interim` (a 1xx response with its own header, then 200).
struct LocalHTTPServer: Sendable {
    private let server: FakeHTTPServer

    init() throws {
        server = try FakeHTTPServer(handler: Self.respond)
    }

    var port: Int { server.port }

    /// The full URL of a path on this server.
    func url(_ path: String) -> String {
        server.url(path)
    }

    /// Stops accepting and cuts every open connection.
    func stop() {
        server.stop()
    }

    /// A port on 127.0.0.1 that nothing listens on.
    static func refusedPort() -> Int {
        freePort()
    }

    private static func respond(_ request: FakeHTTPServer.Request) -> FakeHTTPServer.Response? {
        let parts = request.path.split(separator: "/").map(String.init)
        switch parts.first {
        case "echo":
            return .init(status: 200, headers: [("X-Method", request.method), ("X-Body-Length", "\(request.body.count)")], body: request.body)
        case "head":
            return .init(status: 200, body: request.head)
        case "status":
            let status = parts.count > 1 ? Int(parts[1]) ?? 500 : 500
            return .init(status: status, headers: [("X-Custom-Header", "Custom Value")], body: Array("status \(status)".utf8))
        case "delay":
            let milliseconds = parts.count > 1 ? UInt32(parts[1]) ?? 0 : 0
            usleep(milliseconds * 1000)
            return .init(status: 200, body: Array("delayed".utf8))
        case "hang":
            return nil
        case "interim":
            return .init(status: 200, headers: [("X-Final", "yes")], body: Array("final".utf8),
                         preamble: Array("HTTP/1.1 102 Processing\r\nX-Interim: yes\r\n\r\n".utf8))
        default:
            return .init(status: 404, body: Array("not found".utf8))
        }
    }
}
