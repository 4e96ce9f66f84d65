import Foundation
import TestSupport
import Testing

/// `docketctl console` as a process (docs/reference.md §13): the token printed once when generated, never when
/// configured; a non-loopback address refused without a configured token; bad settings exit 2 with one line.
@Suite struct ConsoleCommandTests {
    @Test func aGeneratedTokenIsPrintedOnceAsALoginURLThatWorks() throws {
        let port = freePort()
        let console = try ChildProcess.launch(
            product: "docketctl", arguments: ["console", "--listen", "127.0.0.1:\(port)"],
            environment: ["DOCKET_REDIS_PREFIX": TestEnvironment.uniquePrefix("console-cmd")])
        defer { console.terminate() }
        try waitUntil(timeout: .seconds(20), what: "the login URL") { console.output.contains("login?token=") }
        let output = console.output
        let url = try #require(output.split(separator: "\n").first { $0.contains("login?token=") })
        let token = String(url.split(separator: "=").last ?? "")
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        #expect(output.components(separatedBy: token).count == 2, "printed once")

        let refused = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/login?token=\(String(repeating: "0", count: 64))")
        #expect(refused.status == 401)
        let login = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/login?token=\(token)")
        #expect(login.status == 303)
        #expect(login.header("set-cookie")?.contains("HttpOnly") == true)
        let api = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/api/overview", headers: [("Authorization", "Bearer \(token)")])
        // Whatever the shared Redis and the default database hold, the answer is the overview or a named outage.
        #expect(api.status == 200 || (api.status == 503 && api.body.contains("unavailable")), "\(api.status) \(api.body)")
        #expect(!console.output.contains("Bearer"))
        console.terminate()
        #expect(console.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test(arguments: [
        (["--listen", "0.0.0.0:8070"], [:], "--listen 0.0.0.0:8070 is not a loopback address: set DOCKET_CONSOLE_TOKEN to serve it beyond this machine"),
        (["--listen", "8070"], [:], "--listen must be host:port (such as 127.0.0.1:8070 or [::1]:8070), got \"8070\""),
        (["--listen", "127.example.com:8070"], [:], "--listen 127.example.com:8070 is not a loopback address"),
        (["--listen", "127.0.0.1:99999"], [:], "--listen must be host:port"),
        ([], ["DOCKET_CONSOLE_TOKEN": "short"], "DOCKET_CONSOLE_TOKEN must be at least 16 characters"),
    ] as [([String], [String: String], String)])
    func badSettingsExit2WithOneLine(arguments: [String], environment: [String: String], message: String) throws {
        let result = try ChildProcess.run(product: "docketctl", arguments: ["console"] + arguments, environment: environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!result.stderr.contains("short"), "the token is never echoed")
    }

    @Test func aNonLoopbackAddressIsServedWithAConfiguredToken() throws {
        let port = freePort()
        let console = try ChildProcess.launch(
            product: "docketctl", arguments: ["console", "--listen", "0.0.0.0:\(port)"],
            environment: ["DOCKET_CONSOLE_TOKEN": "a-configured-token-0123456789"])
        defer { console.terminate() }
        try waitUntil(timeout: .seconds(20), what: "listening") { console.output.contains("Docket console on http://0.0.0.0:\(port)/") }
        #expect(!console.output.contains("a-configured-token"))
        let page = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/")
        #expect(page.status == 401)
    }
}
