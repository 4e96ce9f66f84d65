import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Redis
import Runtime
import StandardWebhooks
import TestSupport
import Testing

@testable import Gateway

/// Shared fixtures: a gateway configuration on a private key prefix, signed requests, and reading the stream back.
struct GatewayHarness: Sendable {
    static let secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let otherSecretText = "whsec_" + Data("a second signing key for rotation".utf8).base64EncodedString()
    static let validBody = #"{"agentId":"agent-7","documentId":"doc-42","documentStatus":"ACCEPTED"}"#

    let prefix: String
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
            redis: try GatewayConfiguration.redisConfiguration(url: redisURL),
            redisPrefix: prefix,
            redisPoolSize: 2,
            host: "127.0.0.1",
            port: 0,
            trustedProxies: try TrustedProxies(parsing: "127.0.0.1/32,::1/128"),
            readinessInterval: .milliseconds(100)
        )
        configure(&configuration)
    }

    static var logger: Logger {
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .warning
        return logger
    }

    /// Runs a live gateway for the duration of `test`.
    func withLiveGateway<T: Sendable>(
        shutdown: ShutdownFlag = ShutdownFlag(),
        _ test: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let app = buildApplication(configuration: configuration, logger: Self.logger, shutdown: shutdown)
        return try await app.test(.live, test)
    }

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
        _ client: any TestClientProtocol, body: String, headers: HTTPFields, path: String = "/document/update"
    ) async throws -> TestResponse {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    // MARK: Redis

    /// Every entry of this test's events stream as (id, fields by name).
    func streamEntries() throws -> [(id: String, fields: [String: [UInt8]])] {
        let connection = try RedisConnection(configuration: RedisConfiguration(url: redisURL))
        defer { connection.close() }
        let reply = try connection.send("XRANGE", RedisArgument("{\(prefix)}:events"), "-", "+")
        var entries: [(id: String, fields: [String: [UInt8]])] = []
        for item in reply.array ?? [] {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string, let flat = pair[1].array else { continue }
            var fields: [String: [UInt8]] = [:]
            var index = 0
            while index + 1 < flat.count {
                if let name = flat[index].string, let value = flat[index + 1].bytes { fields[name] = value }
                index += 2
            }
            entries.append((id: id, fields: fields))
        }
        return entries
    }

    func streamWebhookIds() throws -> [String] {
        try streamEntries().compactMap { $0.fields["webhook_id"].map { String(decoding: $0, as: UTF8.self) } }
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

extension TestResponse {
    var bodyText: String { String(buffer: body) }

    /// The body parsed as a JSON object (problem documents, 202 bodies).
    func jsonObject() throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(bodyText.utf8))
        return try #require(parsed as? [String: Any])
    }
}
