import Foundation
import Redis
import StandardWebhooks
import TestSupport

/// A real `docket-gateway` process on its own port and Redis key prefix, logging JSON at debug level so each
/// request's `Request answered` line (client address, request id, status) can be read back.
final class RunningGateway {
    static let secretText = TestSecret.webhook

    let port: Int
    let prefix: String
    private let process: ChildProcess

    /// Starts the gateway and waits until `/readyz` says Redis is reachable. `trustedProxies` nil keeps the
    /// docs/reference.md §2 default (127.0.0.1/32,::1/128), which is what a gateway next to its nginx uses.
    init(name: String, trustedProxies: String? = nil) throws {
        port = freePort()
        prefix = TestEnvironment.uniquePrefix(name)
        var environment = [
            "DOCKET_WEBHOOK_SECRET": Self.secretText,
            "DOCKET_GATEWAY_HOST": "127.0.0.1",
            "DOCKET_GATEWAY_PORT": "\(port)",
            "DOCKET_REDIS_URL": TestEnvironment.redisURL,
            "DOCKET_REDIS_PREFIX": prefix,
            "DOCKET_LOG_FORMAT": "json",
            "DOCKET_LOG_LEVEL": "debug",
        ]
        if let trustedProxies {
            environment["DOCKET_TRUSTED_PROXIES"] = trustedProxies
        }
        process = try ChildProcess.launch(product: "docket-gateway", environment: environment)
        let process = self.process
        let port = self.port
        try waitUntil(timeout: .seconds(30), what: "docket-gateway to be ready on \(port)") {
            guard process.isRunning else {
                throw TestSupportError(.launchFailed, "docket-gateway exited at start:\n\(process.output)")
            }
            let reply = try? LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/readyz")
            return reply?.status == 200
        }
    }

    /// Everything the gateway logged so far.
    var output: String { process.output }

    /// The gateway's JSON log lines whose `msg` is `message`, decoded.
    func logEntries(_ message: String) -> [[String: String]] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  object["msg"] as? String == message
            else { return nil }
            return object.compactMapValues { $0 as? String }
        }
    }

    /// The `Request answered` line for `requestID`, waiting briefly for the log to be written.
    func answeredLine(requestID: String) throws -> [String: String] {
        var found: [String: String]?
        try waitUntil(timeout: .seconds(5), what: "the gateway to log request \(requestID)") {
            found = logEntries("Request answered").first { $0["request_id"] == requestID }
            return found != nil
        }
        guard let found else { throw TestSupportError(.timeout, "no log line for request \(requestID)") }
        return found
    }

    /// A signed verdict request: the three Standard Webhooks headers and a JSON content type.
    static func signedHeaders(id: String, body: [UInt8]) throws -> [(name: String, value: String)] {
        let signer = WebhookSigner(secret: try WebhookSecret(secretText))
        return [(name: "Content-Type", value: "application/json")]
            + signer.headers(id: id, timestamp: Int(Date().timeIntervalSince1970), body: body)
    }

    /// A valid verdict body, padded to exactly `size` bytes (when larger than the minimum) with a field the gateway ignores.
    static func verdictBody(documentID: String, size: Int? = nil) -> [UInt8] {
        let fields = #""agentId":"agent-7","documentId":"\#(documentID)","documentStatus":"ACCEPTED""#
        let minimal = "{" + fields + "}"
        guard let size, size > minimal.utf8.count else { return Array(minimal.utf8) }
        let opening = "{" + fields + #","padding":""#
        let closing = #""}"#
        let fill = max(0, size - opening.utf8.count - closing.utf8.count)
        return Array((opening + String(repeating: "x", count: fill) + closing).utf8)
    }

    /// The `webhook_id` of every entry in this gateway's events stream, oldest first.
    func streamWebhookIDs() async throws -> [String] {
        let client = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        defer { client.shutdown() }
        let reply = try await client.send("XRANGE", RedisArgument("{\(prefix)}:events"), "-", "+")
        return (reply.array ?? []).compactMap { entry -> String? in
            guard let fields = entry.array?.last?.array else { return nil }
            var index = 0
            while index + 1 < fields.count {
                if fields[index].string == "webhook_id" { return fields[index + 1].string }
                index += 2
            }
            return nil
        }
    }

    /// Stops the gateway (SIGTERM, then SIGKILL if it does not exit).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        if process.waitForExit(timeout: .seconds(10)) == nil {
            process.kill9()
        }
    }

    deinit {
        stop()
    }
}
