import Foundation
import Synchronization
import TestSupport
import Testing

/// docket-scheduler end to end: real Postgres, real helpdesk-sim and docket-scheduler processes, scripted Help Desks.
@Suite("Scheduler flow")
struct SchedulerFlowTests {
    @Test func queuedReviewsBecomePendingWithTheHelpDesksIds() async throws {
        let harness = try await SchedulerHarness.make("sched-happy")
        defer { harness.shutdown() }
        let sim = try await harness.startSimulator(["--delay-ms", "600000"])
        let metricsPort = freePort()
        let scheduler = try harness.startScheduler(helpDeskURL: sim.url, metricsPort: metricsPort, ["--review-timeout", "1s"])
        let urls = SchedulerHarness.urls(20)
        try await harness.submit(urls)

        let reviews = try await harness.waitForReviews()
        let documents = try await harness.simulatedDocuments(sim.url)
        #expect(documents.count == 20)
        let byURL = Dictionary(uniqueKeysWithValues: documents.map { ($0.documentUrl, $0) })
        for review in reviews {
            #expect(review.status == "PENDING_REVIEW")
            #expect(review.attempts == 1)
            #expect(!review.claimed)
            let document = try #require(byURL[review.url])
            #expect(review.documentId == document.documentId)
            #expect(review.agentId == document.agentId)
        }

        // The reviews stay unanswered past --review-timeout: the stale gauge counts them.
        try await waitUntil(timeout: .seconds(15), what: "the stale gauge to count 20") {
            try await harness.metrics(port: metricsPort).contains("docket_scheduler_stale_reviews 20")
        }
        let metrics = try await harness.metrics(port: metricsPort)
        #expect(metrics.contains(#"docket_scheduler_requests_total{outcome="accepted"} 20"#))
        #expect(metrics.contains("docket_scheduler_request_duration_seconds"))
        #expect(metrics.contains("docket_scheduler_requests_in_flight 0"))

        scheduler.terminate()
        #expect(scheduler.waitForExit(timeout: .seconds(15)) == Int32(0), "\(scheduler.output)")
        sim.process.terminate()
    }

    @Test func flakyHelpDeskStillGetsEveryDocumentOnce() async throws {
        let harness = try await SchedulerHarness.make("sched-flaky")
        defer { harness.shutdown() }
        let sim = try await harness.startSimulator(["--delay-ms", "600000", "--fail-rate", "0.3"])
        let scheduler = try harness.startScheduler(helpDeskURL: sim.url, ["--request-max-attempts", "40"])
        let urls = SchedulerHarness.urls(60)
        try await harness.submit(urls)

        let reviews = try await harness.waitForReviews()
        #expect(reviews.allSatisfy { $0.status == "PENDING_REVIEW" })
        // With 60 reviews at 30% failures, some must have needed more than one attempt.
        #expect(reviews.contains { $0.attempts > 1 })
        let documents = try await harness.simulatedDocuments(sim.url)
        #expect(documents.count == 60)
        #expect(Set(documents.map(\.documentUrl)) == Set(urls))
        #expect(documents.allSatisfy { $0.requests == 1 })
        scheduler.terminate()
        sim.process.terminate()
    }

    @Test func alwaysFailingHelpDeskEndsInRequestFailed() async throws {
        let harness = try await SchedulerHarness.make("sched-down")
        defer { harness.shutdown() }
        let sim = try await harness.startSimulator(["--fail-rate", "1"])
        let scheduler = try harness.startScheduler(helpDeskURL: sim.url, ["--request-max-attempts", "3"])
        try await harness.submit(SchedulerHarness.urls(3))

        let reviews = try await harness.waitForReviews()
        for review in reviews {
            #expect(review.status == "REQUEST_FAILED")
            #expect(review.attempts == 3)
            #expect(review.lastError?.hasPrefix("gave up after 3 attempts: Help Desk answered 500") == true, "\(review.lastError ?? "nil")")
            #expect(!review.claimed)
        }
        #expect(try await harness.simulatedDocuments(sim.url).isEmpty)
        scheduler.terminate()
        sim.process.terminate()
    }

    @Test func badRequestFailsAtOnceAndTheRequestHasTheContractsShape() async throws {
        let harness = try await SchedulerHarness.make("sched-400")
        defer { harness.shutdown() }
        let helpDesk = try FakeHTTPServer { _ in .json(400, #"{"error":"documentUrl is not reachable"}"#) }
        let scheduler = try harness.startScheduler(helpDeskURL: helpDesk.url)
        let ids = try await harness.submit(["https://docs.example.com/a/b.pdf"])

        let reviews = try await harness.waitForReviews()
        let review = try #require(reviews.first)
        #expect(review.status == "REQUEST_FAILED")
        #expect(review.attempts == 1)
        #expect(review.lastError == #"Help Desk answered 400: {"error":"documentUrl is not reachable"}"#)

        let request = try #require(helpDesk.requests.first)
        #expect(helpDesk.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/document")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["x-callback-url"] == "http://127.0.0.1:9/document/update")
        #expect(request.headers["idempotency-key"] == "docket-review-\(ids[0])")
        let body = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String]
        #expect(body == ["documentUrl": "https://docs.example.com/a/b.pdf"])
        scheduler.terminate()
        helpDesk.stop()
    }

    @Test func tooManyRequestsWaitsForRetryAfter() async throws {
        let harness = try await SchedulerHarness.make("sched-429")
        defer { harness.shutdown() }
        let calls = SharedCounter()
        let helpDesk = try FakeHTTPServer { _ in
            if calls.next() == 1 {
                return .json(429, #"{"error":"slow down"}"#, headers: [("Retry-After", "2")])
            }
            return .json(201, #"{"agentId":"agent-9","documentId":"doc-429","status":"PENDING_REVIEW"}"#)
        }
        // Backoff alone would retry within 10 ms.
        let scheduler = try harness.startScheduler(helpDeskURL: helpDesk.url)
        try await harness.submit(["https://docs.example.com/429.pdf"])

        let review = try #require(try await harness.waitForReviews().first)
        #expect(review.status == "PENDING_REVIEW")
        #expect(review.documentId == "doc-429")
        #expect(review.agentId == "agent-9")
        #expect(review.attempts == 2)
        let requests = helpDesk.requests
        #expect(requests.count == 2)
        if requests.count == 2 {
            let gap = requests[0].receivedAt.duration(to: requests[1].receivedAt)
            #expect(gap >= .milliseconds(1900), "retried after \(gap)")
        }
        scheduler.terminate()
        helpDesk.stop()
    }

    @Test func hungHelpDeskHitsTheTimeout() async throws {
        let harness = try await SchedulerHarness.make("sched-hung")
        defer { harness.shutdown() }
        let helpDesk = try FakeHTTPServer { _ in nil }
        let scheduler = try harness.startScheduler(
            helpDeskURL: helpDesk.url,
            ["--request-timeout-ms", "300", "--request-max-attempts", "2", "--claim-lease-ms", "2000"]
        )
        try await harness.submit(["https://docs.example.com/hung.pdf"])

        let review = try #require(try await harness.waitForReviews(timeout: .seconds(20)).first)
        #expect(review.status == "REQUEST_FAILED")
        #expect(review.attempts == 2)
        #expect(review.lastError?.contains("timed out") == true, "\(review.lastError ?? "nil")")
        #expect(helpDesk.requests.count == 2)
        scheduler.terminate()
        helpDesk.stop()
    }

    @Test func twoSchedulersRequestEachOfAThousandReviewsOnce() async throws {
        let harness = try await SchedulerHarness.make("sched-two")
        defer { harness.shutdown() }
        let sim = try await harness.startSimulator(["--delay-ms", "600000"])
        let first = try harness.startScheduler(helpDeskURL: sim.url, ["--max-in-flight", "16"])
        let second = try harness.startScheduler(helpDeskURL: sim.url, ["--max-in-flight", "16"])
        let urls = SchedulerHarness.urls(1000)
        // In several submissions, as producers would, so both schedulers are woken repeatedly.
        for chunk in stride(from: 0, to: urls.count, by: 100) {
            try await harness.submit(Array(urls[chunk..<(chunk + 100)]))
        }

        let reviews = try await harness.waitForReviews(timeout: .seconds(120))
        #expect(reviews.count == 1000)
        #expect(reviews.allSatisfy { $0.status == "PENDING_REVIEW" && $0.attempts == 1 })
        let documents = try await harness.simulatedDocuments(sim.url)
        #expect(documents.count == 1000)
        #expect(Set(documents.map(\.documentUrl)).count == 1000)
        // No review was requested twice, not even as a harmless Idempotency-Key replay.
        #expect(documents.allSatisfy { $0.requests == 1 })
        first.terminate()
        second.terminate()
        #expect(first.waitForExit(timeout: .seconds(15)) == Int32(0))
        #expect(second.waitForExit(timeout: .seconds(15)) == Int32(0))
        sim.process.terminate()
    }

    @Test func killedSchedulersClaimsAreRequestedByAnother() async throws {
        let harness = try await SchedulerHarness.make("sched-kill")
        defer { harness.shutdown() }
        // The first scheduler's Help Desk never answers, so it is holding ten claims when it dies.
        let hung = try FakeHTTPServer { _ in nil }
        let doomed = try harness.startScheduler(
            helpDeskURL: hung.url,
            ["--request-timeout-ms", "6000", "--claim-lease-ms", "7000", "--max-in-flight", "10"]
        )
        let urls = SchedulerHarness.urls(10)
        try await harness.submit(urls)
        try await waitUntil(timeout: .seconds(20), what: "ten requests at the hung Help Desk") { () async throws -> Bool in hung.requests.count >= 10 }
        doomed.kill9()
        _ = doomed.waitForExit(timeout: .seconds(5))
        let orphaned = try await harness.reviews()
        #expect(orphaned.allSatisfy { $0.status == "QUEUED" && $0.claimed })

        let sim = try await harness.startSimulator(["--delay-ms", "600000"])
        let survivor = try harness.startScheduler(helpDeskURL: sim.url, ["--claim-lease-ms", "10000"])
        let reviews = try await harness.waitForReviews(timeout: .seconds(40))
        #expect(reviews.allSatisfy { $0.status == "PENDING_REVIEW" })
        // The dead scheduler's attempt never got an answer, so it was never counted.
        #expect(reviews.allSatisfy { $0.attempts == 1 }, "\(reviews.map { ($0.attempts, $0.lastError ?? "") })")
        #expect(Set(try await harness.simulatedDocuments(sim.url).map(\.documentUrl)) == Set(urls))
        survivor.terminate()
        sim.process.terminate()
        hung.stop()
    }

    @Test func sigtermLetsInFlightRequestsFinish() async throws {
        let harness = try await SchedulerHarness.make("sched-sigterm")
        defer { harness.shutdown() }
        let counter = SharedCounter()
        let slow = try FakeHTTPServer { _ in
            Thread.sleep(forTimeInterval: 1.5)
            let n = counter.next()
            return .json(201, #"{"agentId":"agent-1","documentId":"doc-slow-\#(n)","status":"PENDING_REVIEW"}"#)
        }
        let scheduler = try harness.startScheduler(helpDeskURL: slow.url)
        try await harness.submit(SchedulerHarness.urls(5))
        try await waitUntil(timeout: .seconds(20), what: "five requests in flight") { () async throws -> Bool in slow.requests.count >= 5 }
        scheduler.terminate()
        #expect(scheduler.waitForExit(timeout: .seconds(15)) == Int32(0), "\(scheduler.output)")
        let reviews = try await harness.reviews()
        #expect(reviews.allSatisfy { $0.status == "PENDING_REVIEW" && !$0.claimed })
        slow.stop()
    }
}

/// A counter closures on server threads can share (Atomic itself cannot be captured: it is not copyable).
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds one and returns the new value.
    func next() -> Int {
        value.add(1, ordering: .relaxed).newValue
    }
}
