import Curl
import Foundation
import Model

/// Decides what one Help Desk answer means for a review (docs/reference.md §10; docs/architecture.md, "The guarantees
/// and where each is kept", "Outbound requests once in effect"); pure, so every rule is unit-tested.
///
/// 2xx with `agentId` and `documentId` → accepted. Transport failures (connect, timeout, ...), 429 and 5xx → retry with
/// capped exponential backoff and full jitter (429: at least `Retry-After`), until `policy.maxAttempts` requests were
/// sent → failed. Any other status, or a 2xx without the ids → failed at once.
struct RequestClassifier: Sendable {
    /// Backoff and the attempt budget (`DOCKET_REQUEST_*`).
    var policy: RetryPolicy
    /// Longest `Retry-After` honoured; a bigger value is clamped so one answer cannot park a review for days.
    var maxRetryAfter: Duration = .seconds(86_400)

    /// The decision for attempt number `attempt` (1-based: requests sent so far, this one included).
    /// `random` in (0, 1] is the jitter draw.
    func decide(_ result: Result<CurlResponse, CurlError>, attempt: Int, random: Double) -> RequestDecision {
        switch result {
        case .failure(let error):
            return retryOrGiveUp(reason: Self.describe(error), attempt: attempt, random: random, atLeast: .zero)
        case .success(let response):
            return decide(response, attempt: attempt, random: random)
        }
    }

    private func decide(_ response: CurlResponse, attempt: Int, random: Double) -> RequestDecision {
        switch response.status {
        case 200..<300:
            guard let ids = Self.reviewIds(in: response.body) else {
                return .failed(reason: "Help Desk answered \(response.status) without agentId and documentId: \(Self.snippet(response.body))")
            }
            return .accepted(agentId: ids.agentId, documentId: ids.documentId)
        case 429:
            let retryAfter = Self.retryAfter(response.header("Retry-After")).map { min($0, maxRetryAfter) } ?? .zero
            return retryOrGiveUp(
                reason: "Help Desk answered 429 Too Many Requests" + (retryAfter > .zero ? " (Retry-After \(Self.seconds(retryAfter)) s)" : ""),
                attempt: attempt,
                random: random,
                atLeast: retryAfter
            )
        case 500..<600:
            return retryOrGiveUp(
                reason: "Help Desk answered \(response.status): \(Self.snippet(response.body))",
                attempt: attempt,
                random: random,
                atLeast: .zero
            )
        default:
            return .failed(reason: "Help Desk answered \(response.status): \(Self.snippet(response.body))")
        }
    }

    private func retryOrGiveUp(reason: String, attempt: Int, random: Double, atLeast floor: Duration) -> RequestDecision {
        if policy.isExhausted(attempt: attempt) {
            return .failed(reason: "gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"): \(reason)")
        }
        // RetryPolicy counts from 0 for the first failure.
        let backoff = policy.delay(afterAttempt: attempt - 1, random: random)
        return .retry(after: max(backoff, floor), reason: reason)
    }

    /// `agentId` and `documentId` when the body is a JSON object holding both as non-empty strings of sane length.
    static func reviewIds(in body: [UInt8]) -> (agentId: String, documentId: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let agentId = object["agentId"] as? String, let documentId = object["documentId"] as? String,
            (1...ReviewVerdict.maxIdentifierLength).contains(agentId.count),
            (1...ReviewVerdict.maxIdentifierLength).contains(documentId.count)
        else { return nil }
        return (agentId, documentId)
    }

    /// `Retry-After` as delay-seconds (RFC 9110 §10.2.3); an HTTP-date is read relative to now. Nil when absent or unreadable.
    static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) {
            return seconds >= 0 ? .seconds(seconds) : nil
        }
        guard let date = httpDate(value) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : .zero
    }

    private static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    static func describe(_ error: CurlError) -> String {
        switch error.code {
        case .timeout: "Help Desk request timed out: \(error.message)"
        case .connect: "could not connect to the Help Desk: \(error.message)"
        case .resolve: "could not resolve the Help Desk host: \(error.message)"
        case .other: "Help Desk request failed: \(error.message)"
        }
    }

    /// The start of a response body for `last_error`, on one line.
    static func snippet(_ body: [UInt8]) -> String {
        if body.isEmpty { return "(empty body)" }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ") + (body.count > 200 ? "…" : "")
    }

    private static func seconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds)
    }
}
