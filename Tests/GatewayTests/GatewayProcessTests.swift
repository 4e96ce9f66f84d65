import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// The built `docket-gateway` binary: configuration errors exit 2 with one line; SIGTERM drains and exits 0.
@Suite struct GatewayProcessTests {
    @Test func startWithoutSecretExits2WithOneLine() throws {
        let result = try ChildProcess.run(
            product: "docket-gateway", arguments: ["--port", "0"], environment: ["DOCKET_WEBHOOK_SECRET": ""])
        #expect(result.status == 2)
        let lines = result.stderr.split(whereSeparator: \.isNewline)
        #expect(lines.count == 1)
        #expect(result.stderr.contains("DOCKET_WEBHOOK_SECRET is not set: give at least one whsec_ secret"))
    }

    @Test(arguments: ["not-a-secret", "\(TestSecret.webhook) whsec_%%%"])
    func startWithInvalidSecretExits2WithoutEchoingIt(_ secret: String) throws {
        let result = try ChildProcess.run(
            product: "docket-gateway", arguments: ["--port", "0"], environment: ["DOCKET_WEBHOOK_SECRET": secret])
        #expect(result.status == 2)
        #expect(result.stderr.split(whereSeparator: \.isNewline).count == 1)
        #expect(result.stderr.contains("DOCKET_WEBHOOK_SECRET"))
        #expect(!result.stderr.contains(TestSecret.webhookKey))
    }

    @Test func badTrustedProxiesExits2() throws {
        let result = try ChildProcess.run(
            product: "docket-gateway", arguments: ["--port", "0", "--trusted-proxies", "10.0.0.0/33"],
            environment: ["DOCKET_WEBHOOK_SECRET": GatewayHarness.secretText])
        #expect(result.status == 2)
        #expect(result.stderr.contains("DOCKET_TRUSTED_PROXIES"))
    }

    /// Cluster and replica settings are checked before anything starts: exit 2, one line naming the setting.
    @Test(arguments: [
        (["DOCKET_REDIS_MIN_REPLICAS": "17"], "DOCKET_REDIS_MIN_REPLICAS"),
        (["DOCKET_REDIS_REPLICA_TIMEOUT_MS": "0"], "DOCKET_REDIS_REPLICA_TIMEOUT_MS"),
        (["DOCKET_REDIS_CLUSTER": "maybe"], "DOCKET_REDIS_CLUSTER"),
        (["DOCKET_REDIS_URL": "redis://127.0.0.1:7000,127.0.0.1:7001"], "DOCKET_REDIS_CLUSTER=1"),
        (["DOCKET_REDIS_CLUSTER": "1", "DOCKET_REDIS_URL": "redis://127.0.0.1:7000,127.0.0.1:7001/3"], "database 0 only"),
    ])
    func badClusterSettingsExit2(environment: [String: String], named: String) throws {
        let result = try ChildProcess.run(
            product: "docket-gateway", arguments: ["--port", "0"],
            environment: environment.merging(["DOCKET_WEBHOOK_SECRET": GatewayHarness.secretText]) { first, _ in first })
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(named), "\(result.stderr)")
    }

    @Test func sigtermFinishesAndExits0() async throws {
        let port = freePort()
        let prefix = TestEnvironment.uniquePrefix("sigterm")
        let gateway = try ChildProcess.launch(
            product: "docket-gateway",
            arguments: ["--port", "\(port)"],
            environment: [
                "DOCKET_WEBHOOK_SECRET": GatewayHarness.secretText,
                "DOCKET_REDIS_URL": TestEnvironment.redisURL,
                "DOCKET_REDIS_PREFIX": prefix,
            ])
        defer { gateway.kill9() }
        try await waitUntil(timeout: .seconds(20), what: "the gateway to be ready") {
            guard gateway.isRunning else { throw GatewayExited(output: gateway.output) }
            let status = try? await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await client.get("/readyz").status
            }
            return status == .ok
        }
        let id = GatewayHarness.uniqueId()
        let accepted = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            try await client.post(
                "/document/update", headers: try GatewayHarness.signedHeaders(id: id, body: GatewayHarness.validBody),
                body: ByteBuffer(string: GatewayHarness.validBody)
            ).status
        }
        #expect(accepted == .accepted)
        gateway.terminate()
        let status = gateway.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "output: \(gateway.output)")
        #expect(!gateway.output.contains(GatewayHarness.secretText))
    }

    @Test func sigtermUnderLoadAnswersEveryRequestItReadAndLosesNothing() async throws {
        let port = freePort()
        let prefix = TestEnvironment.uniquePrefix("sigterm-load")
        let gateway = try ChildProcess.launch(
            product: "docket-gateway",
            arguments: ["--port", "\(port)", "--shutdown-grace-ms", "2000"],
            environment: [
                "DOCKET_WEBHOOK_SECRET": GatewayHarness.secretText,
                "DOCKET_REDIS_URL": TestEnvironment.redisURL,
                "DOCKET_REDIS_PREFIX": prefix,
            ])
        defer { gateway.kill9() }
        // Reads the gateway process's stream.
        let stream = try GatewayHarness("sigterm-load").withPrefix(prefix)
        defer { stream.cleanUp() }
        try waitUntil(timeout: .seconds(20), what: "the gateway to be ready") {
            guard gateway.isRunning else { throw GatewayExited(output: gateway.output) }
            return (try? LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/readyz"))?.status == 200
        }
        // A client that sends half a webhook and then nothing: shutdown must not wait for it beyond the grace period.
        let stalled = try LoopbackConnection(port: port)
        let request = try GatewayPipelineTests.signedWebhook(id: GatewayHarness.uniqueId("stalled"))
        #expect(stalled.send(Array(request.dropLast(10))))
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 1)
            gateway.terminate()
        }
        let results = await RawLoad.run(port: port, lanes: 6, duration: .seconds(10), stopWhenRefused: true, tag: "term")
        let started = ContinuousClock.now
        let status = gateway.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "output: \(gateway.output)")
        #expect(ContinuousClock.now - started < .seconds(5), "shutdown waited \(ContinuousClock.now - started) for a stalled client")
        // The stalled request was never complete: its connection ends with no answer.
        #expect(stalled.readToEnd().isEmpty)
        // Every request got its whole answer, or its connection ended before a byte of one.
        #expect(results.halfAnswered.isEmpty)
        #expect(results.unexpectedAnswers.isEmpty)
        #expect(results.acceptedIds.count > 50)
        #expect(results.contains { if case .refused = $0 { true } else { false } }, "the load never saw the gateway stop")
        // Nothing half-done either: exactly the 202s are in the stream.
        let stored = try stream.streamWebhookIds()
        #expect(stored.count == results.acceptedIds.count)
        #expect(Set(stored).symmetricDifference(results.acceptedIds).isEmpty)
    }

    struct GatewayExited: Error, CustomStringConvertible {
        var output: String
        var description: String { "docket-gateway exited early: \(output)" }
    }
}
