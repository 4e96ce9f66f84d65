import Foundation
import NIOCore
import NIOHTTP1
import Redis
import StandardWebhooks
import Testing

@testable import Gateway
@testable import Queue

/// The gateway's decisions without I/O: routes, admission, verification and validation, and the answer to each
/// Redis reply.
@Suite struct WebhookIntakeDecisionTests {
    typealias H = GatewayHarness

    static func intake(maxBodyBytes: Int = 100) throws -> WebhookIntake {
        WebhookIntake(
            verifier: KeyedWebhookVerifier(WebhookVerifier(secrets: try WebhookSecret.list(H.secretText))),
            maxBodyBytes: maxBodyBytes)
    }

    @Test func routesDependOnPathThenMethod() {
        #expect(WebhookIntake.route(method: .POST, uri: "/document/update") == .webhook)
        #expect(WebhookIntake.route(method: .POST, uri: "/document/update?source=helpdesk") == .webhook)
        #expect(WebhookIntake.route(method: .GET, uri: "/document/update") == .methodNotAllowed(allowed: "POST"))
        #expect(WebhookIntake.route(method: .POST, uri: "/document/update/") == .notFound(path: "/document/update/"))
        #expect(WebhookIntake.route(method: .GET, uri: "/livez") == .probe(.live))
        #expect(WebhookIntake.route(method: .GET, uri: "/healthz") == .probe(.live))
        #expect(WebhookIntake.route(method: .GET, uri: "/readyz?verbose") == .probe(.ready))
        #expect(WebhookIntake.route(method: .GET, uri: "/metrics") == .probe(.metrics))
        #expect(WebhookIntake.route(method: .HEAD, uri: "/metrics") == .methodNotAllowed(allowed: "GET"))
        #expect(WebhookIntake.route(method: .GET, uri: "/") == .notFound(path: "/"))
        #expect(WebhookIntake.route(method: .POST, uri: "http://gateway:8080/document/update?x=1") == .webhook)
        #expect(WebhookIntake.route(method: .GET, uri: "http://gateway:8080") == .notFound(path: "/"))
    }

    @Test func admissionChecksContentTypeBeforeDeclaredSize() throws {
        let intake = try Self.intake(maxBodyBytes: 100)
        #expect(intake.admit(contentType: "application/json", contentLength: "100") == nil)
        #expect(intake.admit(contentType: "application/json; charset=utf-8", contentLength: nil) == nil)
        #expect(intake.admit(contentType: "application/json", contentLength: "101")?.outcome == .tooLarge)
        #expect(intake.admit(contentType: "text/plain", contentLength: "101")?.outcome == .unsupportedMediaType)
        #expect(intake.admit(contentType: nil, contentLength: "1")?.outcome == .unsupportedMediaType)
    }

    @Test func signatureIsCheckedBeforeThePayload() throws {
        let intake = try Self.intake()
        let now = Int(Date().timeIntervalSince1970)
        let bad = Array("not json".utf8)
        let signed = try H.signedHeaders(id: "msg_1", body: "not json", timestamp: now)
        let refused = bad.withUnsafeBytes { body in
            intake.check(id: "msg_1", timestamp: signed[.webhookTimestamp], signature: "v1,AAAA", body: body, nowSeconds: now)
        }
        guard case .failure(let refusal) = refused, case .signature = refusal else {
            Issue.record("expected a signature refusal, got \(refused)")
            return
        }
        #expect(refusal.answer.status == .unauthorized)

        let invalid = bad.withUnsafeBytes { body in
            intake.check(
                id: "msg_1", timestamp: signed[.webhookTimestamp], signature: signed[.webhookSignature], body: body, nowSeconds: now)
        }
        guard case .failure(let payload) = invalid, case .payload(let error) = payload else {
            Issue.record("expected a payload refusal, got \(invalid)")
            return
        }
        #expect(error.errors.map(\.field) == ["body"])
        #expect(payload.answer.status == .badRequest)

        let valid = Array(H.validBody.utf8)
        let headers = try H.signedHeaders(id: "msg_2", body: H.validBody, timestamp: now)
        let accepted = valid.withUnsafeBytes { body in
            intake.check(
                id: "msg_2", timestamp: headers[.webhookTimestamp], signature: headers[.webhookSignature], body: body, nowSeconds: now)
        }
        #expect((try? accepted.get())?.id == "msg_2")
        #expect((try? accepted.get())?.timestamp == now)
    }

    @Test func everyEnqueueReplyMapsToItsAnswer() {
        let allocator = ByteBufferAllocator()
        func answer(_ reply: Result<RESPValue, RedisError>) -> GatewayAnswer {
            let queueReply = reply.map(QueueReply.init).mapError { QueueLinkFailure(description: $0.description) }
            return WebhookIntake.answer(forEnqueueReply: queueReply, webhookId: #"id-"quoted""#, allocator: allocator)
        }
        let accepted = answer(.success(.array([.bulkString(Array("accepted".utf8)), .bulkString(Array("1-0".utf8))])))
        #expect(accepted.status == .accepted)
        #expect(accepted.outcome == .accepted)
        #expect(String(buffer: accepted.body) == #"{"id":"id-\"quoted\""}"#)

        let duplicate = answer(.success(.array([.bulkString(Array("duplicate".utf8))])))
        #expect(duplicate.status == .accepted)
        #expect(duplicate.outcome == .duplicate)

        let backlog = answer(.success(.array([.bulkString(Array("backlog".utf8))])))
        #expect(backlog.status == .serviceUnavailable)
        #expect(backlog.retryAfter == GatewayAnswer.retryAfterBacklog)
        #expect(backlog.outcome == .overBacklog)

        for unavailable in [
            answer(.failure(RedisError(code: .connection, message: "lost"))),
            answer(.success(.error("NOSCRIPT No matching script"))),
            answer(.success(.error("OOM command not allowed"))),
            answer(.success(.array([.bulkString(Array("surprise".utf8))]))),
            answer(.success(.null)),
        ] {
            #expect(unavailable.status == .serviceUnavailable)
            #expect(unavailable.retryAfter == GatewayAnswer.retryAfterUnavailable)
            #expect(unavailable.outcome == .redisUnavailable)
        }
    }
}
