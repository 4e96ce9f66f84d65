import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Runtime
import TestSupport
import Testing

@testable import Gateway

/// Every row of the table in docs/reference.md §4 against a live gateway and real Redis, with the stream checked
/// afterwards.
@Suite struct WebhookIntakeTests {
    typealias H = GatewayHarness

    @Test func validWebhookIsAcceptedAndEnqueuedVerbatim() async throws {
        let harness = try H("accept")
        defer { harness.cleanUp() }
        let id = H.uniqueId()
        // Odd spacing and an unknown field: the stored body must be the raw bytes, not a re-encoding.
        let body = #"{ "documentStatus" : "DECLINED", "agentId":"a-1",  "documentId":"d-1", "extra": [1, {"x": null}] }"#
        let timestamp = Int(Date().timeIntervalSince1970)
        let response = try await harness.withLiveGateway { client in
            try await H.post(client, body: body, headers: try H.signedHeaders(id: id, body: body, timestamp: timestamp))
        }
        #expect(response.status == .accepted)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.bodyText == #"{"id":"\#(id)"}"#)
        let entries = try harness.streamEntries()
        try #require(entries.count == 1)
        let entry = entries[0]
        #expect(entry.value("body") == Array(body.utf8))
        #expect(entry.string("webhook_id") == id)
        #expect(entry.string("timestamp") == String(timestamp))
        #expect(entry.string("attempt") == "0")
        let receivedAt = try #require(entry.string("received_at").flatMap { Int($0) })
        #expect(abs(receivedAt - Int(Date().timeIntervalSince1970 * 1000)) < 60_000)
    }

    @Test func duplicateIdGetsTheSameAnswerAndOneEntry() async throws {
        let harness = try H("dup")
        defer { harness.cleanUp() }
        let id = H.uniqueId()
        let (first, second) = try await harness.withLiveGateway { client in
            let headers = try H.signedHeaders(id: id, body: H.validBody)
            let first = try await H.post(client, body: H.validBody, headers: headers)
            let second = try await H.post(client, body: H.validBody, headers: headers)
            return (first, second)
        }
        #expect(first.status == .accepted)
        #expect(second.status == .accepted)
        #expect(first.bodyText == second.bodyText)
        #expect(try harness.streamWebhookIds() == [id])
    }

    @Test func rotationAcceptsEitherSecret() async throws {
        let harness = try H("rotation", secrets: "\(H.otherSecretText) \(H.secretText)")
        defer { harness.cleanUp() }
        let oldId = H.uniqueId("old")
        let newId = H.uniqueId("new")
        let statuses = try await harness.withLiveGateway { client in
            let a = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: oldId, body: H.validBody, secret: H.secretText))
            let b = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: newId, body: H.validBody, secret: H.otherSecretText))
            return [a.status, b.status]
        }
        #expect(statuses == [.accepted, .accepted])
        #expect(Set(try harness.streamWebhookIds()) == [oldId, newId])
    }

    /// One 401 case: what to change in an otherwise valid request.
    struct SignatureCase: Sendable, CustomTestStringConvertible {
        var name: String
        var edit: @Sendable (inout HTTPFields) -> Void
        var testDescription: String { name }
    }

    static let signatureCases: [SignatureCase] = [
        SignatureCase(name: "missing webhook-id") { $0[.webhookID] = nil },
        SignatureCase(name: "missing webhook-timestamp") { $0[.webhookTimestamp] = nil },
        SignatureCase(name: "missing webhook-signature") { $0[.webhookSignature] = nil },
        SignatureCase(name: "malformed timestamp") { $0[.webhookTimestamp] = "soon" },
        SignatureCase(name: "malformed signature") { $0[.webhookSignature] = "v1" },
        SignatureCase(name: "wrong signature") { $0[.webhookSignature] = "v1,Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=" },
        SignatureCase(name: "other version only") { fields in
            fields[.webhookSignature] = fields[.webhookSignature].map { "v2" + $0.dropFirst(2) }
        },
        SignatureCase(name: "id changed after signing") { $0[.webhookID] = "msg_tampered" },
    ]

    @Test(arguments: signatureCases)
    func badSignatureHeadersAre401(_ signatureCase: SignatureCase) async throws {
        let harness = try H("sig")
        defer { harness.cleanUp() }
        let response = try await harness.withLiveGateway { client in
            var headers = try H.signedHeaders(id: H.uniqueId(), body: H.validBody)
            signatureCase.edit(&headers)
            return try await H.post(client, body: H.validBody, headers: headers)
        }
        #expect(response.status == .unauthorized)
        try expectProblem(response, status: 401)
        #expect(try harness.streamEntries().isEmpty)
    }

    @Test(arguments: [-310, 310, -3600, 86400])
    func timestampMoreThanFiveMinutesOffIs401(_ offset: Int) async throws {
        let harness = try H("stale")
        defer { harness.cleanUp() }
        let response = try await harness.withLiveGateway { client in
            let timestamp = Int(Date().timeIntervalSince1970) + offset
            return try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody, timestamp: timestamp))
        }
        #expect(response.status == .unauthorized)
        try expectProblem(response, status: 401)
        #expect(try harness.streamEntries().isEmpty)
    }

    @Test func bodyChangedAfterSigningIs401() async throws {
        let harness = try H("tamper")
        defer { harness.cleanUp() }
        let response = try await harness.withLiveGateway { client in
            let headers = try H.signedHeaders(id: H.uniqueId(), body: H.validBody)
            return try await H.post(client, body: H.validBody.replacingOccurrences(of: "ACCEPTED", with: "DECLINED"), headers: headers)
        }
        #expect(response.status == .unauthorized)
        #expect(try harness.streamEntries().isEmpty)
    }

    /// Bodies that are signed correctly but are not a valid verdict, with the fields the 400 must name.
    static let payloadCases: [(body: String, fields: [String])] = [
        ("not json", ["body"]),
        ("", ["body"]),
        ("[1,2]", ["body"]),
        (#""a string""#, ["body"]),
        (#"{}"#, ["agentId", "documentId", "documentStatus"]),
        (#"{"agentId":1,"documentId":"d","documentStatus":"ACCEPTED"}"#, ["agentId"]),
        (#"{"agentId":"a","documentId":null,"documentStatus":"ACCEPTED"}"#, ["documentId"]),
        (#"{"agentId":"a","documentId":"d","documentStatus":"MAYBE"}"#, ["documentStatus"]),
        (#"{"agentId":"","documentId":"d","documentStatus":"ACCEPTED"}"#, ["agentId"]),
        (#"{"agentId":"a","documentId":"\#(String(repeating: "x", count: 257))","documentStatus":"DECLINED"}"#, ["documentId"]),
        (#"{"agentId":"a","documentId":"d","documentStatus":"accepted"}"#, ["documentStatus"]),
    ]

    @Test(arguments: payloadCases)
    func invalidPayloadIs400WithFieldErrors(_ payload: (body: String, fields: [String])) async throws {
        let harness = try H("payload")
        defer { harness.cleanUp() }
        let response = try await harness.withLiveGateway { client in
            try await H.post(client, body: payload.body, headers: try H.signedHeaders(id: H.uniqueId(), body: payload.body))
        }
        #expect(response.status == .badRequest)
        let problem = try expectProblem(response, status: 400)
        let errors = try #require(problem["errors"] as? [[String: Any]])
        #expect(errors.compactMap { $0["field"] as? String } == payload.fields)
        #expect(errors.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })
        #expect(try harness.streamEntries().isEmpty)
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let harness = try H("large") { $0.maxBodyBytes = 200 }
        defer { harness.cleanUp() }
        let big = #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","pad":"\#(String(repeating: "p", count: 300))"}"#
        let (tooBig, exact) = try await harness.withLiveGateway { client in
            let tooBig = try await H.post(client, body: big, headers: try H.signedHeaders(id: H.uniqueId(), body: big))
            // Exactly at the limit is fine.
            let fits = #"{"agentId":"a","documentId":"d","documentStatus":"ACCEPTED","pad":""#
            let padded = fits + String(repeating: "p", count: 200 - fits.utf8.count - 2) + #""}"#
            let exact = try await H.post(client, body: padded, headers: try H.signedHeaders(id: H.uniqueId(), body: padded))
            return (tooBig, exact)
        }
        #expect(tooBig.status == .contentTooLarge)
        try expectProblem(tooBig, status: 413)
        #expect(exact.status == .accepted)
        #expect(try harness.streamEntries().count == 1)
    }

    @Test(arguments: [nil, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "application/problem+json"])
    func nonJSONContentTypeIs415(_ contentType: String?) async throws {
        let harness = try H("media")
        defer { harness.cleanUp() }
        let response = try await harness.withLiveGateway { client in
            try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody, contentType: contentType))
        }
        #expect(response.status == .unsupportedMediaType)
        try expectProblem(response, status: 415)
        #expect(try harness.streamEntries().isEmpty)
    }

    @Test(arguments: ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"])
    func jsonContentTypeWithParametersIsAccepted(_ contentType: String) async throws {
        let harness = try H("media-ok")
        defer { harness.cleanUp() }
        let response = try await harness.withLiveGateway { client in
            try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody, contentType: contentType))
        }
        #expect(response.status == .accepted)
        #expect(try harness.streamEntries().count == 1)
    }

    @Test func otherMethodIs405WithAllowAndUnknownPathIs404() async throws {
        let harness = try H("routes")
        defer { harness.cleanUp() }
        let responses = try await harness.withLiveGateway { client in
            [
                try await client.execute(uri: "/document/update", method: .get),
                try await client.execute(uri: "/document/update", method: .put, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody), body: ByteBuffer(string: H.validBody)),
                try await client.execute(uri: "/document/updates", method: .post, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody), body: ByteBuffer(string: H.validBody)),
                try await client.execute(uri: "/", method: .get),
                try await client.execute(uri: "/livez", method: .post),
            ]
        }
        #expect(responses.map(\.status) == [.methodNotAllowed, .methodNotAllowed, .notFound, .notFound, .methodNotAllowed])
        #expect(responses[0].headers[.allow] == "POST")
        #expect(responses[1].headers[.allow] == "POST")
        #expect(responses[4].headers[.allow] == "GET")
        for response in responses { try expectProblem(response, status: Int(response.status.code)) }
        #expect(try harness.streamEntries().isEmpty)
    }

    @Test func checksRunInTheContractOrder() async throws {
        let harness = try H("order") { $0.maxBodyBytes = 100 }
        defer { harness.cleanUp() }
        let big = String(repeating: "x", count: 500)
        let statuses = try await harness.withLiveGateway { client in
            var unsigned = HTTPFields()
            unsigned[.contentType] = "text/plain"
            // Wrong method beats everything.
            let a = try await client.execute(uri: "/document/update", method: .patch, headers: unsigned, body: ByteBuffer(string: big))
            // Content type beats size and signature.
            let b = try await H.post(client, body: big, headers: unsigned)
            // Size beats signature.
            unsigned[.contentType] = "application/json"
            let c = try await H.post(client, body: big, headers: unsigned)
            // Signature beats payload.
            let d = try await H.post(client, body: "not json", headers: unsigned)
            return [a.status, b.status, c.status, d.status]
        }
        #expect(statuses == [.methodNotAllowed, .unsupportedMediaType, .contentTooLarge, .unauthorized])
        #expect(try harness.streamEntries().isEmpty)
    }

    @Test func backlogAtTheLimitIs503WithRetryAfter() async throws {
        let harness = try H("backlog") { $0.maxBacklog = 3 }
        defer { harness.cleanUp() }
        let ids = (0..<5).map { _ in H.uniqueId() }
        let (responses, duplicate) = try await harness.withLiveGateway { client in
            var responses: [GatewayTestResponse] = []
            for id in ids {
                responses.append(try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: id, body: H.validBody)))
            }
            // A duplicate of an accepted id is still recognised above the limit.
            let duplicate = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: ids[0], body: H.validBody))
            return (responses, duplicate)
        }
        #expect(responses.map(\.status) == [.accepted, .accepted, .accepted, .serviceUnavailable, .serviceUnavailable])
        #expect(responses[3].headers[.retryAfter] != nil)
        try expectProblem(responses[4], status: 503)
        #expect(duplicate.status == .accepted)
        #expect(try harness.streamWebhookIds() == Array(ids.prefix(3)))
    }

    @Test func requestIdIsGeneratedOrTakenFromATrustedProxy() async throws {
        let trusted = try H("rid")
        defer { trusted.cleanUp() }
        let (generated, echoed) = try await trusted.withLiveGateway { client in
            let generated = try await client.execute(uri: "/nowhere", method: .get)
            var headers = HTTPFields()
            headers[.requestID] = "proxy-abc-123"
            let echoed = try await client.execute(uri: "/nowhere", method: .get, headers: headers)
            return (generated, echoed)
        }
        #expect(generated.headers[.requestID]?.isEmpty == false)
        #expect(echoed.headers[.requestID] == "proxy-abc-123")

        let untrusted = try H("rid-untrusted") { $0.trustedProxies = TrustedProxies(blocks: []) }
        defer { untrusted.cleanUp() }
        let ignored = try await untrusted.withLiveGateway { client in
            var headers = HTTPFields()
            headers[.requestID] = "spoofed-id"
            return try await client.execute(uri: "/livez", method: .get, headers: headers)
        }
        #expect(ignored.headers[.requestID] != nil)
        #expect(ignored.headers[.requestID] != "spoofed-id")
    }

    @Test func probesAndMetrics() async throws {
        let harness = try H("probes")
        defer { harness.cleanUp() }
        let shutdown = ShutdownFlag()
        let (live, ready, metrics, afterShutdown) = try await harness.withLiveGateway(shutdown: shutdown) { client in
            _ = try await H.post(client, body: H.validBody, headers: try H.signedHeaders(id: H.uniqueId(), body: H.validBody))
            let live = try await client.execute(uri: "/livez", method: .get)
            try await waitUntil(timeout: .seconds(5), what: "/readyz to pass") {
                try await client.execute(uri: "/readyz", method: .get).status == .ok
            }
            let ready = try await client.execute(uri: "/readyz", method: .get)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            shutdown.begin()
            let afterShutdown = try await client.execute(uri: "/readyz", method: .get)
            return (live, ready, metrics, afterShutdown)
        }
        #expect(live.status == .ok)
        #expect(ready.status == .ok)
        #expect(afterShutdown.status == .serviceUnavailable)
        let text = metrics.bodyText
        #expect(text.contains(#"docket_gateway_requests_total{outcome="accepted"}"#))
        #expect(text.contains("docket_gateway_enqueue_seconds_bucket"))
        #expect(text.contains("docket_gateway_backlog"))
    }

    /// Checks the RFC 9457 shape and media type; returns the document.
    @discardableResult
    func expectProblem(_ response: GatewayTestResponse, status: Int) throws -> [String: Any] {
        #expect(response.headers[.contentType] == "application/problem+json")
        let problem = try response.jsonObject()
        #expect(problem["status"] as? Int == status)
        #expect((problem["type"] as? String)?.hasPrefix("urn:docket:problem:") == true)
        #expect((problem["title"] as? String)?.isEmpty == false)
        #expect((problem["detail"] as? String)?.isEmpty == false)
        #expect(response.headers[.requestID] != nil)
        return problem
    }
}
