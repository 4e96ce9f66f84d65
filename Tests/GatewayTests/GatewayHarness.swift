import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Queue
import Redis
import Runtime
import ServiceLifecycle
import StandardWebhooks
import TestSupport
import Testing

@testable import Gateway

/// Shared fixtures: a gateway configuration on a private key prefix, signed requests, and reading the stream back.
struct GatewayHarness: Sendable {
    static let secretText = TestSecret.webhook
    static let otherSecretText = "whsec_" + Data("a second signing key for rotation".utf8).base64EncodedString()
    static let validBody = #"{"agentId":"agent-7","documentId":"doc-42","documentStatus":"ACCEPTED"}"#

    private(set) var prefix: String
    let redisURL: String
    var configuration: GatewayConfiguration

    init(
        _ name: String,
        redisURL: String = TestEnvironment.redisURL,
        secrets: String = GatewayHarness.secretText,
        configure: (inout GatewayConfiguration) -> Void = { _ in }
    ) throws {
        prefix = TestEnvironment.uniquePrefix(name)
        self.redisURL = redisURL
        configuration = GatewayConfiguration(
            secrets: try WebhookSecret.list(secrets),
            queue: try GatewayConfiguration.queueConfiguration(url: redisURL),
            redisPrefix: prefix,
            eventLoopThreads: 2,
            host: "127.0.0.1",
            port: 0,
            trustedProxies: try TrustedProxies(parsing: "127.0.0.1/32,::1/128"),
            readinessInterval: .milliseconds(100)
        )
        configure(&configuration)
    }

    /// The same harness reading another key prefix (e.g. a gateway process's).
    func withPrefix(_ prefix: String) -> GatewayHarness {
        var copy = self
        copy.prefix = prefix
        return copy
    }

    static var logger: Logger {
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .warning
        return logger
    }

    /// Runs a live gateway (the real NIO server on a free port, in a service group) for the duration of `test`, then
    /// shuts it down gracefully.
    func withLiveGateway<T: Sendable>(
        shutdown: ShutdownFlag = ShutdownFlag(),
        _ test: @Sendable (GatewayTestClient) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let server = GatewayServer(configuration: configuration, logger: Self.logger, shutdown: shutdown) { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [server], logger: Self.logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                portContinuation.finish()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.next()
                throw GatewayDidNotStart()
            }
            let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20)))
            client.connect()
            do {
                let value = try await test(GatewayTestClient(client: client, port: port))
                try? await client.shutdown()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                try? await client.shutdown()
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    struct GatewayDidNotStart: Error {}

    // MARK: Requests

    static func signedHeaders(
        id: String, body: String, secret: String = secretText, timestamp: Int = Int(Date().timeIntervalSince1970),
        contentType: String? = "application/json"
    ) throws -> HTTPFields {
        let signer = WebhookSigner(secret: try WebhookSecret(secret))
        var fields = HTTPFields()
        if let contentType { fields[.contentType] = contentType }
        for header in signer.headers(id: id, timestamp: timestamp, body: Array(body.utf8)) {
            guard let name = HTTPField.Name(header.name) else { continue }
            fields[name] = header.value
        }
        return fields
    }

    static func uniqueId(_ tag: String = "msg") -> String {
        "\(tag)_\(UUID().uuidString.lowercased())"
    }

    @discardableResult
    static func post(
        _ client: GatewayTestClient, body: String, headers: HTTPFields, path: String = "/document/update"
    ) async throws -> GatewayTestResponse {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    // MARK: Redis

    /// Every entry of this test's events stream, oldest first.
    func streamEntries() throws -> [StreamEntry] {
        let connection = try RedisConnection(configuration: RedisConfiguration(url: redisURL))
        defer { connection.close() }
        return try EventQueue(prefix: prefix).events(connection)
    }

    func streamWebhookIds() throws -> [String] {
        try streamEntries().compactMap { $0.string("webhook_id") }
    }

    /// Deletes this test's keys (best effort).
    func cleanUp() {
        guard let connection = try? RedisConnection(configuration: RedisConfiguration(url: redisURL)) else { return }
        defer { connection.close() }
        var cursor = "0"
        repeat {
            guard let reply = try? connection.send("SCAN", RedisArgument(cursor), "MATCH", RedisArgument("{\(prefix)}:*"), "COUNT", "1000"),
                  let parts = reply.array, parts.count == 2, let next = parts[0].string
            else { return }
            let keys = (parts[1].array ?? []).compactMap(\.bytes)
            if !keys.isEmpty { _ = try? connection.send([RedisArgument("DEL")] + keys.map { RedisArgument(bytes: $0) }) }
            cursor = next
        } while cursor != "0"
    }
}

/// A keep-alive connection to a live gateway (HummingbirdTesting's `TestClient`; concurrent calls are pipelined on it).
struct GatewayTestClient: Sendable {
    let client: TestClient
    let port: Int?

    func execute(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> GatewayTestResponse {
        var headers = headers
        headers[.connection] = "keep-alive"
        let response = try await client.execute(
            TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
        return GatewayTestResponse(head: response.head, body: response.body ?? ByteBuffer())
    }
}

/// One answer as the tests read it.
struct GatewayTestResponse: Sendable {
    let head: HTTPResponse
    let body: ByteBuffer
    var status: HTTPResponse.Status { head.status }
    var headers: HTTPFields { head.headerFields }
}

extension GatewayTestResponse {
    var bodyText: String { String(buffer: body) }

    /// The body parsed as a JSON object (problem documents, 202 bodies).
    func jsonObject() throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(bodyText.utf8))
        return try #require(parsed as? [String: Any])
    }
}

extension HTTPField.Name {
    // Literal, valid header names: the initialiser cannot fail for them.
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
    static let requestID = HTTPField.Name("X-Request-ID")!
}
