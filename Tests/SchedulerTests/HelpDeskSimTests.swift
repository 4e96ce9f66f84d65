import Foundation
import Model
import StandardWebhooks
import Synchronization
import TestSupport
import Testing

@testable import HelpDeskSim

/// helpdesk-sim behaves like a real Help Desk: validation, idempotency, signed deliveries with retries.
@Suite("helpdesk-sim")
struct HelpDeskSimTests {
    @Test func delayRangeParsing() {
        #expect(DelayRange(argument: "2000-5000") == DelayRange(low: 2000, high: 5000))
        #expect(DelayRange(argument: "0") == DelayRange(low: 0, high: 0))
        #expect(DelayRange(argument: "10-10") == DelayRange(low: 10, high: 10))
        for bad in ["", "-", "5-2", "a-b", "-5", "1-", "1-2-3"] {
            #expect(DelayRange(argument: bad) == nil, "\(bad)")
        }
    }

    @Test func invalidRequestsAreRefusedWith400() async throws {
        let harness = try await SchedulerHarness.make("sim-400")
        defer { harness.shutdown() }
        let sim = try await harness.startSimulator(["--delay-ms", "600000"])
        let callback = "http://127.0.0.1:9/cb"
        let cases: [(body: String, callback: String?)] = [
            (#"{"documentUrl":"https://x.example/a.pdf"}"#, nil),
            (#"{"documentUrl":"https://x.example/a.pdf"}"#, "not a url"),
            (#"{}"#, callback),
            (#"{"documentUrl":42}"#, callback),
            (#"{"documentUrl":"ftp://x.example/a.pdf"}"#, callback),
            (#"{"documentUrl":""}"#, callback),
            ("not json", callback),
        ]
        for (body, callbackURL) in cases {
            let response = try await harness.requestReview(sim.url, body: body, callbackURL: callbackURL)
            #expect(response.status == 400, "\(body) \(callbackURL ?? "no callback")")
            #expect(String(decoding: response.body, as: UTF8.self).contains("\"error\""))
        }
        #expect(try await harness.simulatedDocuments(sim.url).isEmpty)
        let accepted = try await harness.requestReview(sim.url, body: #"{"documentUrl":"https://x.example/a.pdf"}"#, callbackURL: callback)
        #expect(accepted.status == 201)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(accepted.body)) as? [String: String])
        #expect(answer["status"] == "PENDING_REVIEW")
        #expect(answer["agentId"]?.isEmpty == false)
        #expect(answer["documentId"]?.isEmpty == false)
        sim.process.terminate()
    }

    @Test func idempotencyKeyReplaysTheFirstAnswer() async throws {
        let harness = try await SchedulerHarness.make("sim-idem")
        defer { harness.shutdown() }
        let sim = try await harness.startSimulator(["--delay-ms", "600000"])
        let body = #"{"documentUrl":"https://x.example/idem.pdf"}"#
        // Concurrent first requests race for the key; exactly one review may come of them.
        async let a = harness.requestReview(sim.url, body: body, callbackURL: "http://127.0.0.1:9/cb", idempotencyKey: "docket-review-1")
        async let b = harness.requestReview(sim.url, body: body, callbackURL: "http://127.0.0.1:9/cb", idempotencyKey: "docket-review-1")
        let (first, second) = try await (a, b)
        let third = try await harness.requestReview(sim.url, body: body, callbackURL: "http://127.0.0.1:9/cb", idempotencyKey: "docket-review-1")
        #expect([first.status, second.status, third.status] == [Int](repeating: 201, count: 3))
        #expect(first.body == second.body)
        #expect(first.body == third.body)
        let other = try await harness.requestReview(sim.url, body: body, callbackURL: "http://127.0.0.1:9/cb", idempotencyKey: "docket-review-2")
        #expect(other.body != first.body)

        let documents = try await harness.simulatedDocuments(sim.url)
        #expect(documents.count == 2)
        #expect(documents.map(\.requests).sorted() == [1, 3])
        sim.process.terminate()
    }

    @Test func failedDeliveriesAreRetriedAndEverySignatureVerifies() async throws {
        let harness = try await SchedulerHarness.make("sim-retry")
        defer { harness.shutdown() }
        let calls = SharedCounter()
        let callback = try FakeHTTPServer { _ in
            calls.next() <= 2 ? FakeHTTPServer.Response(status: 500) : FakeHTTPServer.Response(status: 204)
        }
        let sim = try await harness.startSimulator(["--delay-ms", "0-20", "--retry-base-ms", "50", "--accept-rate", "1"])
        let accepted = try await harness.requestReview(sim.url, body: #"{"documentUrl":"https://x.example/r.pdf"}"#, callbackURL: callback.url + "/document/update")
        #expect(accepted.status == 201)

        try await waitUntil(timeout: .seconds(20), what: "three delivery attempts") { () async throws -> Bool in callback.requests.count >= 3 }
        let verifier = WebhookVerifier(secrets: try WebhookSecret.list(SchedulerHarness.secret))
        let now = Int(Date().timeIntervalSince1970)
        var ids: Set<String> = []
        for request in callback.requests {
            #expect(request.method == "POST")
            #expect(request.path == "/document/update")
            #expect(request.headers["content-type"] == "application/json")
            let verified = try verifier.verify(
                id: request.headers["webhook-id"],
                timestamp: request.headers["webhook-timestamp"],
                signature: request.headers["webhook-signature"],
                body: request.body,
                now: now
            )
            ids.insert(verified.id)
            let verdict = try ReviewVerdict.decode(request.body)
            #expect(verdict.documentStatus == .accepted)
        }
        // Retries are the same message.
        #expect(ids.count == 1)
        #expect(ids.first?.hasPrefix("msg_") == true)

        try await waitUntil(timeout: .seconds(5), what: "the simulator to record the delivery") {
            try await harness.simulatedDocuments(sim.url).first?.delivered == true
        }
        let document = try #require(try await harness.simulatedDocuments(sim.url).first)
        #expect(document.deliveryAttempts == 3)
        #expect(document.documentStatus == "ACCEPTED")
        #expect(document.webhookId == ids.first)
        let verdict = try ReviewVerdict.decode(try #require(callback.requests.last).body)
        #expect(verdict.documentId == document.documentId)
        #expect(verdict.agentId == document.agentId)
        sim.process.terminate()
        callback.stop()
    }

    @Test func duplicatesRepeatTheSameMessage() async throws {
        let harness = try await SchedulerHarness.make("sim-dup")
        defer { harness.shutdown() }
        let callback = try FakeHTTPServer { _ in FakeHTTPServer.Response(status: 200) }
        let sim = try await harness.startSimulator(["--delay-ms", "0", "--duplicate-rate", "1", "--accept-rate", "0"])
        _ = try await harness.requestReview(sim.url, body: #"{"documentUrl":"https://x.example/d.pdf"}"#, callbackURL: callback.url + "/cb")
        try await waitUntil(timeout: .seconds(20), what: "a delivery and its duplicate") { () async throws -> Bool in callback.requests.count >= 2 }
        let requests = callback.requests
        #expect(requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"])
        #expect(requests[0].body == requests[1].body)
        #expect(try ReviewVerdict.decode(requests[0].body).documentStatus == .declined)
        sim.process.terminate()
        callback.stop()
    }

    @Test func manyConcurrentReviewsAreAllDelivered() async throws {
        let harness = try await SchedulerHarness.make("sim-many")
        defer { harness.shutdown() }
        let callback = try FakeHTTPServer { _ in FakeHTTPServer.Response(status: 202) }
        let sim = try await harness.startSimulator(["--delay-ms", "200-1500"])
        let count = 300
        let statuses = await withTaskGroup(of: String.self) { group in
            for index in 0..<count {
                group.addTask {
                    // A client retries a failed connection, as the scheduler does; the key keeps it to one review.
                    var outcome = ""
                    for _ in 0..<3 {
                        do {
                            let response = try await harness.requestReview(
                                sim.url,
                                body: #"{"documentUrl":"https://x.example/many/\#(index).pdf"}"#,
                                callbackURL: callback.url + "/cb",
                                idempotencyKey: "many-\(index)"
                            )
                            return "\(response.status)"
                        } catch {
                            outcome = "\(error)"
                        }
                    }
                    return outcome
                }
            }
            var statuses: [String: Int] = [:]
            for await status in group { statuses[status, default: 0] += 1 }
            return statuses
        }
        #expect(statuses == ["201": count], "\(sim.process.output.suffix(3000))")
        try await waitUntil(timeout: .seconds(60), what: "every verdict delivered") {
            try await harness.simulatedDocuments(sim.url).filter(\.delivered).count == count
        }
        #expect(Set(callback.requests.compactMap { $0.headers["webhook-id"] }).count == count)
        sim.process.terminate()
        callback.stop()
    }
}
