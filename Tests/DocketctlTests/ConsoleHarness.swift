import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Model
import Postgres
import Queue
import Redis
import Store
import TestSupport
import Testing

@testable import Docketctl

/// A console over its own Redis prefix and its own migrated database, served in-process by Hummingbird's test client.
struct ConsoleHarness {
    static let token = "console-test-token-0123456789"
    static let wrongTokenDelay: Duration = .milliseconds(300)

    let prefix: String
    let databaseURL: String
    let queue: PartitionedQueue
    let store: StoreClient
    let auth = ConsoleAuth(token: ConsoleHarness.token)
    let history = ThroughputHistory(interval: .seconds(1))
    /// The test's own view of Redis, to seed and check what the console did.
    let redis: RedisClient
    let eventQueue: EventQueue

    /// The queue's partitions; `eventQueue` is partition 0's.
    let partitioning: Partitioning

    init(_ name: String, partitions: Int = 1) async throws {
        prefix = TestEnvironment.uniquePrefix(name)
        partitioning = Partitioning(prefix: prefix, count: partitions)
        databaseURL = try TestEnvironment.makeDatabase(name)
        queue = try PartitionedQueue(url: TestEnvironment.redisURL, partitioning: partitioning)
        store = StoreClient(url: databaseURL)
        _ = try await store.migrate()
        redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL))
        eventQueue = EventQueue(keys: partitioning.keys(0))
    }

    func routes(queue: PartitionedQueue? = nil, store: StoreClient? = nil) -> ConsoleRoutes {
        ConsoleRoutes(
            auth: auth, queue: queue ?? self.queue, store: store ?? self.store, history: history,
            logger: Logger(label: "console-test"), wrongTokenDelay: Self.wrongTokenDelay)
    }

    func withClient(queue: PartitionedQueue? = nil, store: StoreClient? = nil, _ body: @Sendable (ConsoleClient) async throws -> Void) async throws {
        let application = Application(router: routes(queue: queue, store: store).router())
        try await application.test(.router) { client in
            try await body(ConsoleClient(client: client))
        }
    }

    /// Dead letters with the given (documentId, reason) pairs, oldest first; returns their ids in that order.
    @discardableResult
    func makeDeadLetters(
        _ letters: [(document: String, reason: String)], body: (@Sendable (String) -> String)? = nil, partition: Int = 0
    ) async throws -> [String] {
        let webhookPrefix = "wh-\(UUID().uuidString.prefix(8))-"
        let eventQueue = EventQueue(keys: partitioning.keys(partition))
        return try await redis.withConnection { redis in try Self.seed(letters, webhookPrefix, body, eventQueue, redis) }
    }

    private static func seed(
        _ letters: [(document: String, reason: String)], _ webhookPrefix: String, _ body: (@Sendable (String) -> String)?,
        _ eventQueue: EventQueue, _ redis: RedisConnection
    ) throws -> [String] {
        for (index, letter) in letters.enumerated() {
            let text = body?(letter.document) ?? #"{"agentId":"agent-1","documentId":"\#(letter.document)","documentStatus":"ACCEPTED"}"#
            let envelope = EventEnvelope(
                webhookId: "\(webhookPrefix)\(index)", timestamp: 1_700_000_000 + index, receivedAt: 1_700_000_000_000,
                body: Array(text.utf8))
            _ = try eventQueue.enqueue(envelope, dedupeTTLSeconds: 60, maxBacklog: 1_000_000, on: redis)
            let entries = try eventQueue.read(redis, consumer: "console-test", count: 1, blockMilliseconds: 0, pending: false)
            for entry in entries {
                try eventQueue.deadLetter(
                    redis, entryId: entry.id, fields: entry.fields, reason: letter.reason, attempts: 3, consumer: "console-test",
                    failedAtMilliseconds: Int(Date().timeIntervalSince1970 * 1000))
            }
        }
        return try eventQueue.allDeadLetters(redis).filter { $0.webhookId?.hasPrefix(webhookPrefix) == true }.map(\.id)
    }

    func deadCount() async throws -> Int { try await redis.send("XLEN", RedisArgument(eventQueue.keys.dead)).int ?? -1 }
    func eventCount() async throws -> Int { try await redis.send("XLEN", RedisArgument(eventQueue.keys.events)).int ?? -1 }
    func deadIds() async throws -> [String] {
        let eventQueue = self.eventQueue
        return try await redis.withConnection { try eventQueue.allDeadLetters($0).map(\.id) }
    }

    /// A backlog entry (accepted, not read by anyone).
    func enqueue(webhookId: String) async throws {
        let eventQueue = self.eventQueue
        let envelope = EventEnvelope(webhookId: webhookId, timestamp: 1_700_000_000, receivedAt: 1_700_000_000_000,
                                     body: Array(#"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED"}"#.utf8))
        _ = try await redis.withConnection { try eventQueue.enqueue(envelope, dedupeTTLSeconds: 60, maxBacklog: 1_000, on: $0) }
    }

    /// Runs SQL on the test's database.
    func sql(_ statement: String, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        let connection = try PostgresConnection(url: databaseURL)
        defer { connection.close() }
        return try connection.query(statement, parameters)
    }
}

/// The test client with a cookie jar of one cookie, and helpers for forms.
struct ConsoleClient: Sendable {
    let client: any TestClientProtocol

    struct Page: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String

        init(status: HTTPResponse.Status, headers: HTTPFields, text: String) {
            self.status = status
            self.headers = headers
            self.text = text
            // A fragment that went through String interpolation instead of HTML's shows up as its description.
            #expect(!text.contains("HTML(text:"), "a page rendered an HTML value as text: \(text)")
        }

        /// The session cookie set by this response (`name=value`), if any.
        var sessionCookie: String? {
            headers[values: .setCookie].first { $0.hasPrefix(ConsoleAuth.cookieName + "=") }
                .map { String($0.prefix { $0 != ";" }) }
        }

        /// The first `name="csrf" value="…"` on the page.
        var csrf: String? {
            guard let range = text.range(of: #"name="csrf" value=""#) else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }

        /// The value of `id="<id>">VALUE<`.
        func element(_ id: String) -> String? {
            guard let range = text.range(of: #"id="\#(id)">"#) else { return nil }
            var value = String(text[range.upperBound...].prefix { $0 != "<" })
            if value.isEmpty, let link = text[range.upperBound...].range(of: ">") {
                value = String(text[link.upperBound...].prefix { $0 != "<" })  // <dd id="dead"><a href=…>3</a>
            }
            return value
        }
    }

    func get(_ uri: String, cookie: String? = nil, bearer: String? = nil) async throws -> Page {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await client.execute(uri: uri, method: .get, headers: headers) { response in
            Page(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    func post(_ uri: String, _ fields: [(String, String)], cookie: String? = nil, bearer: String? = nil) async throws -> Page {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        let body = fields.map { "\(HTML.urlComponent($0.0))=\(HTML.urlComponent($0.1))" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            Page(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Logs in with the harness's token; the session cookie.
    func logIn() async throws -> String {
        let page = try await get("/login?token=\(ConsoleHarness.token)")
        #expect(page.status == .seeOther)
        return try #require(page.sessionCookie)
    }
}
