import Foundation
import TestSupport
import Testing

/// A real nginx running the shipped `ops/nginx` snippets in front of a real `docket-gateway` (issue 8): webhooks get
/// through, the gateway learns the client address from the proxy only, oversized bodies and internal endpoints stop
/// at the proxy.
@Suite struct NginxProxyTests {
    /// The client's own address in these tests: distinct from nginx's 127.0.0.1, so a log line says who was seen.
    static let clientAddress = "127.0.0.2"

    @Test func signedWebhookThroughTheProxyIsAcceptedAndTheGatewaySeesTheClient() async throws {
        let gateway = try RunningGateway(name: "nginx-accept")
        let nginx = try NginxServer.start(upstreamPort: gateway.port)
        defer { nginx.stop() }

        let id = "msg_\(UUID().uuidString.lowercased())"
        let body = RunningGateway.verdictBody(documentID: "doc-nginx-1")
        // The client tries to spoof its address; nginx, the edge, replaces the header with what it actually sees.
        let reply = try LoopbackHTTPClient.exchange(
            port: nginx.port, from: Self.clientAddress, method: "POST", path: "/document/update",
            headers: try RunningGateway.signedHeaders(id: id, body: body) + [(name: "X-Forwarded-For", value: "203.0.113.9")],
            body: body)

        #expect(reply.status == 202, "proxy answered \(reply.status) \(reply.body)\nnginx: \(nginx.output)")
        #expect(reply.body.contains(id))
        #expect(try await gateway.streamWebhookIDs() == [id])

        // nginx's request id reaches the gateway (trusted proxy), which logs it and echoes it back.
        let requestID = try #require(reply.header("X-Request-ID"))
        let line = try gateway.answeredLine(requestID: requestID)
        #expect(line["client"] == Self.clientAddress, "gateway logged \(line)")
        #expect(line["status"] == "202")
        #expect(nginx.accessLog.contains(requestID), "nginx's access log carries the same request id")
    }

    @Test func spoofedForwardedForSentStraightToTheGatewayIsIgnored() async throws {
        // 127.0.0.1 is outside the trusted range, so this caller is an ordinary client, not a proxy.
        let gateway = try RunningGateway(name: "nginx-spoof", trustedProxies: "10.0.0.0/8")
        let id = "msg_\(UUID().uuidString.lowercased())"
        let body = RunningGateway.verdictBody(documentID: "doc-spoof-1")
        let reply = try LoopbackHTTPClient.exchange(
            port: gateway.port, method: "POST", path: "/document/update",
            headers: try RunningGateway.signedHeaders(id: id, body: body) + [
                (name: "X-Forwarded-For", value: "203.0.113.7"),
                (name: "Forwarded", value: "for=198.51.100.4"),
                (name: "X-Request-ID", value: "spoofed-request-id"),
            ],
            body: body)

        #expect(reply.status == 202)
        let requestID = try #require(reply.header("X-Request-ID"))
        #expect(requestID != "spoofed-request-id", "an untrusted peer's X-Request-ID is not adopted")
        let line = try gateway.answeredLine(requestID: requestID)
        #expect(line["client"] == "127.0.0.1", "gateway logged \(line)")
        #expect(!gateway.output.contains("203.0.113.7"))
        #expect(!gateway.output.contains("198.51.100.4"))
    }

    @Test func oversizedBodyIsStoppedAtTheProxyAndTheLimitsAgree() async throws {
        let gateway = try RunningGateway(name: "nginx-size")
        let nginx = try NginxServer.start(upstreamPort: gateway.port)
        defer { nginx.stop() }

        // One byte over DOCKET_MAX_BODY_BYTES (65536): nginx refuses it without involving the gateway.
        let tooLargeID = "msg_\(UUID().uuidString.lowercased())"
        let tooLarge = RunningGateway.verdictBody(documentID: "doc-big-1", size: 65_537)
        #expect(tooLarge.count == 65_537)
        let refused = try LoopbackHTTPClient.exchange(
            port: nginx.port, from: Self.clientAddress, method: "POST", path: "/document/update",
            headers: try RunningGateway.signedHeaders(id: tooLargeID, body: tooLarge), body: tooLarge)
        #expect(refused.status == 413)
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect(refused.header("X-Request-ID") == nil, "the answer came from nginx, not from a gateway")
        #expect(!gateway.output.contains(tooLargeID))
        #expect(gateway.logEntries("Request answered").isEmpty, "no request reached the gateway")

        // Exactly at the limit: nginx lets it through and the gateway, with the same limit, accepts it.
        let atLimitID = "msg_\(UUID().uuidString.lowercased())"
        let atLimit = RunningGateway.verdictBody(documentID: "doc-big-2", size: 65_536)
        #expect(atLimit.count == 65_536)
        let accepted = try LoopbackHTTPClient.exchange(
            port: nginx.port, from: Self.clientAddress, method: "POST", path: "/document/update",
            headers: try RunningGateway.signedHeaders(id: atLimitID, body: atLimit), body: atLimit)
        #expect(accepted.status == 202, "at the limit: \(accepted.status) \(accepted.body)")

        #expect(try await gateway.streamWebhookIDs() == [atLimitID])
    }

    @Test func probesAndMetricsAreNotPublic() throws {
        let gateway = try RunningGateway(name: "nginx-private")
        let nginx = try NginxServer.start(upstreamPort: gateway.port)
        defer { nginx.stop() }

        for path in ["/metrics", "/livez", "/healthz", "/readyz", "/", "/document/update/../../metrics"] {
            let direct = try LoopbackHTTPClient.exchange(port: gateway.port, method: "GET", path: path)
            let proxied = try LoopbackHTTPClient.exchange(port: nginx.port, from: Self.clientAddress, method: "GET", path: path)
            #expect(proxied.status == 404, "\(path) through the proxy: \(proxied.status)")
            #expect(!proxied.body.contains("docket_gateway"), "\(path) leaked metrics through the proxy")
            if ["/metrics", "/livez", "/healthz", "/readyz"].contains(path) {
                #expect(direct.status == 200, "\(path) on the gateway's own port (the private network) works")
            }
        }
        // The public path itself still reaches the gateway, which explains the method it wants.
        let wrongMethod = try LoopbackHTTPClient.exchange(port: nginx.port, from: Self.clientAddress, method: "GET", path: "/document/update")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("Allow") == "POST")
    }

    /// The site file operators install (`ops/nginx/docket.conf`, including the snippets the way Debian lays them out)
    /// passes `nginx -t`, so what the tests run and what ships cannot drift apart syntactically.
    @Test func shippedSiteConfigurationPassesNginxTest() throws {
        let binary = try NginxServer.executable()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent(TestEnvironment.uniquePrefix("nginx-site")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // docket.conf includes snippets/docket-*.conf relative to the main configuration's directory, as in /etc/nginx.
        try FileManager.default.createSymbolicLink(
            atPath: "\(directory)/snippets", withDestinationPath: OpsDirectory.path("nginx"))
        // The shipped text, with its log files moved into the scratch directory: nginx -t opens them.
        let site = try String(contentsOfFile: OpsDirectory.path("nginx/docket.conf"), encoding: .utf8)
            .replacingOccurrences(of: "/var/log/nginx/", with: "\(directory)/")
        try site.write(toFile: "\(directory)/docket.conf", atomically: true, encoding: .utf8)
        let configuration = """
            pid \(directory)/nginx.pid;
            error_log stderr;
            events { worker_connections 64; }
            http {
                \(NginxServer.temporaryPaths(directory))
                include \(directory)/docket.conf;
            }

            """
        try configuration.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(
            product: binary, arguments: ["-t", "-e", "stderr", "-p", directory, "-c", "\(directory)/nginx.conf"])
        #expect(result.status == 0, "nginx -t: \(result.stderr)")
        #expect(result.stderr.contains("test is successful"))
    }
}
