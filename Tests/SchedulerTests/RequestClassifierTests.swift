import Curl
import Foundation
import Model
import Testing

@testable import Scheduler

@Suite("RequestClassifier")
struct RequestClassifierTests {
    let classifier = RequestClassifier(policy: RetryPolicy(base: .seconds(1), cap: .seconds(300), maxAttempts: 4))

    func response(_ status: Int, _ body: String = "", headers: [CurlHeader] = []) -> Result<CurlResponse, CurlError> {
        .success(CurlResponse(status: status, headers: headers, body: Array(body.utf8)))
    }

    @Test func createdWithBothIdsIsAccepted() {
        let decision = classifier.decide(response(201, #"{"agentId":"a-1","documentId":"d-1","status":"PENDING_REVIEW"}"#), attempt: 1, random: 1)
        #expect(decision == .accepted(agentId: "a-1", documentId: "d-1"))
        #expect(classifier.decide(response(200, #"{"agentId":"a","documentId":"d"}"#), attempt: 3, random: 1) == .accepted(agentId: "a", documentId: "d"))
    }

    @Test(arguments: [#"{"agentId":"a"}"#, #"{"documentId":"d"}"#, #"{"agentId":"","documentId":"d"}"#, #"{"agentId":1,"documentId":"d"}"#, "not json", "", "[]"])
    func twoHundredWithoutIdsFailsAtOnce(body: String) {
        guard case .failed(let reason) = classifier.decide(response(201, body), attempt: 1, random: 1) else {
            Issue.record("expected failed")
            return
        }
        #expect(reason.contains("without agentId and documentId"))
    }

    @Test(arguments: [400, 401, 403, 404, 409, 422, 301])
    func otherStatusesFailAtOnce(status: Int) {
        guard case .failed(let reason) = classifier.decide(response(status, "nope"), attempt: 1, random: 1) else {
            Issue.record("expected failed for \(status)")
            return
        }
        #expect(reason.contains("\(status)"))
        #expect(reason.contains("nope"))
    }

    @Test(arguments: [500, 502, 503, 504])
    func serverErrorsRetryWithExponentialBackoff(status: Int) {
        #expect(classifier.decide(response(status), attempt: 1, random: 1) == .retry(after: .seconds(1), reason: "Help Desk answered \(status): (empty body)"))
        guard case .retry(let second, _) = classifier.decide(response(status), attempt: 2, random: 1),
            case .retry(let third, _) = classifier.decide(response(status), attempt: 3, random: 0.5)
        else {
            Issue.record("expected retries")
            return
        }
        #expect(second == .seconds(2))
        // Full jitter: half the 4 s ceiling.
        #expect(third == .seconds(2))
    }

    @Test func transportFailuresRetry() {
        let timeout = CurlError(code: .timeout, curlCode: 28, message: "Operation timed out after 300 milliseconds")
        guard case .retry(let delay, let reason) = classifier.decide(.failure(timeout), attempt: 1, random: 0.25) else {
            Issue.record("expected retry")
            return
        }
        #expect(delay == .milliseconds(250))
        #expect(reason.contains("timed out"))
        let refused = CurlError(code: .connect, curlCode: 7, message: "Connection refused")
        guard case .retry(_, let refusedReason) = classifier.decide(.failure(refused), attempt: 1, random: 1) else {
            Issue.record("expected retry")
            return
        }
        #expect(refusedReason.contains("could not connect"))
    }

    @Test func exhaustedAttemptsFailWithTheLastReason() {
        guard case .failed(let reason) = classifier.decide(response(503, "busy"), attempt: 4, random: 1) else {
            Issue.record("expected failed")
            return
        }
        #expect(reason == "gave up after 4 attempts: Help Desk answered 503: busy")
        let timeout = CurlError(code: .timeout, curlCode: 28, message: "timed out")
        guard case .failed(let timeoutReason) = classifier.decide(.failure(timeout), attempt: 4, random: 1) else {
            Issue.record("expected failed")
            return
        }
        #expect(timeoutReason.hasPrefix("gave up after 4 attempts: Help Desk request timed out"))
    }

    @Test func tooManyRequestsHonoursRetryAfter() {
        // Retry-After longer than the backoff wins.
        let slow = classifier.decide(response(429, headers: [CurlHeader(name: "retry-after", value: "7")]), attempt: 1, random: 1)
        #expect(slow == .retry(after: .seconds(7), reason: "Help Desk answered 429 Too Many Requests (Retry-After 7 s)"))
        // Backoff longer than Retry-After wins.
        guard case .retry(let delay, _) = classifier.decide(response(429, headers: [CurlHeader(name: "Retry-After", value: "1")]), attempt: 3, random: 1) else {
            Issue.record("expected retry")
            return
        }
        #expect(delay == .seconds(4))
        // No or unreadable Retry-After: plain backoff.
        guard case .retry(let plain, _) = classifier.decide(response(429, headers: [CurlHeader(name: "Retry-After", value: "soon")]), attempt: 1, random: 1) else {
            Issue.record("expected retry")
            return
        }
        #expect(plain == .seconds(1))
        // Still bounded by the attempt budget.
        guard case .failed = classifier.decide(response(429, headers: [CurlHeader(name: "Retry-After", value: "1")]), attempt: 4, random: 1) else {
            Issue.record("expected failed")
            return
        }
    }

    @Test func retryAfterParsing() {
        #expect(RequestClassifier.retryAfter("120") == .seconds(120))
        #expect(RequestClassifier.retryAfter(" 3 ") == .seconds(3))
        #expect(RequestClassifier.retryAfter("-1") == nil)
        #expect(RequestClassifier.retryAfter(nil) == nil)
        #expect(RequestClassifier.retryAfter("") == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RequestClassifier.retryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == .seconds(30))
        #expect(RequestClassifier.retryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == .zero)
    }

    @Test func documentEndpoint() {
        let scheduler = SchedulerConfiguration(helpDeskURL: "http://helpdesk.test:8090/", callbackURL: "http://gw.test/document/update")
        #expect(scheduler.documentEndpoint == "http://helpdesk.test:8090/document")
        #expect(SchedulerConfiguration(helpDeskURL: "http://h/api", callbackURL: "x").documentEndpoint == "http://h/api/document")
    }
}

/// When the request loop claims, and how many: without Postgres.
@Suite struct ClaimLimitTests {
    @Test func idleClaimsEverySlotAtOnce() {
        #expect(ReviewScheduler.claimLimit(maxInFlight: 64, inFlight: 0) == 64)
        #expect(ReviewScheduler.claimLimit(maxInFlight: 1, inFlight: 0) == 1)
    }

    @Test func busyWaitsForAnEighthOfTheSlots() {
        #expect(ReviewScheduler.claimLimit(maxInFlight: 64, inFlight: 60) == nil, "4 free < 8")
        #expect(ReviewScheduler.claimLimit(maxInFlight: 64, inFlight: 56) == 8)
        #expect(ReviewScheduler.claimLimit(maxInFlight: 64, inFlight: 64) == nil)
        #expect(ReviewScheduler.claimLimit(maxInFlight: 4, inFlight: 3) == 1, "an eighth of 4 rounds up to one slot")
    }
}
