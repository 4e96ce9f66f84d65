import Model
import Queue
import Store
import Testing
@testable import Worker

/// A batch's ack / retry / dead-letter partition, without Redis or Postgres.
@Suite struct BatchPlanTests {
    let disposition = EventDisposition(policy: RetryPolicy(base: .seconds(1), cap: .seconds(600), maxAttempts: 3))
    let now = 1_700_000_000_000

    func entry(_ id: String, documentId: String = "d", attempt: Int = 0, body: String? = nil) -> StreamEntry {
        let json = body ?? #"{"agentId":"a","documentId":"\#(documentId)","documentStatus":"ACCEPTED"}"#
        let envelope = EventEnvelope(webhookId: "wh-\(id)", timestamp: 1_700_000_000, receivedAt: 1, body: Array(json.utf8), attempt: attempt)
        return StreamEntry(id: id, fields: envelope.fields)
    }

    @Test func onlyDecodableVerdictsGoToTheStoreAndTheRestAreDecidedAtOnce() {
        let entries = [
            entry("1-0", documentId: "d1"),
            StreamEntry(id: "2-0", fields: [("webhook_id", Array("x".utf8))]),
            entry("3-0", body: "not json"),
            entry("4-0", documentId: "d4"),
        ]
        let decoded = BatchPlan.decode(entries)
        #expect(decoded.records.map(\.verdict.documentId) == ["d1", "d4"])
        #expect(decoded.recordEntry == [0, 3])
        guard case .undecodableEvent = decoded.results[1], case .invalidBody = decoded.results[2] else {
            Issue.record("undecodable and invalid entries are decided without the store: \(decoded.results)")
            return
        }
        #expect(decoded.results[0] == nil && decoded.results[3] == nil)
    }

    /// Every entry ends in exactly one of the three, by the store's answer and the attempt it carries.
    @Test func everyEntryIsSettledOnceByItsOutcome() {
        let entries = [
            entry("1-0"), entry("2-0"), entry("3-0"), entry("4-0"), entry("5-0", attempt: 2), entry("6-0"), entry("7-0"),
            entry("8-0"), entry("9-0", body: "[]"),
        ]
        var decoded = BatchPlan.decode(entries)
        decoded.stored([
            .applied, .duplicate, .stale, .unknownDocument, .unknownDocument, .wrongState("REQUEST_FAILED"),
            .conflicted("40P01 deadlock detected"), .rejected("22008 timestamp out of range"),
        ])
        var draws = 0
        let plan = BatchPlan.settle(entries, decoded, disposition: disposition, nowMilliseconds: now) {
            draws += 1
            return 1
        }
        #expect(plan.acknowledged == ["1-0", "2-0", "3-0"])
        #expect(plan.counts == [.applied: 1, .duplicate: 1, .stale: 1])
        #expect(plan.retries.map(\.entryId) == ["4-0", "7-0"])
        #expect(plan.retries.map(\.envelope.attempt) == [1, 1], "a retry carries its attempt, increased")
        #expect(plan.retries.map(\.dueAtMilliseconds) == [now + 1_000, now + 1_000])
        #expect(plan.dead.map(\.entryId) == ["5-0", "6-0", "8-0", "9-0"])
        #expect(plan.dead.map(\.attempts) == [3, 1, 1, 1])
        #expect(plan.dead[0].reason.hasSuffix("(gave up after 3 attempts)"))
        #expect(plan.dead[2].reason == "rejected by the database: 22008 timestamp out of range")
        #expect(plan.dead[3].fields.map(\.name) == entries[8].fields.map(\.name), "a dead letter keeps the entry's fields")
        #expect(draws == 2, "jitter is drawn for retries only")
        let settled = plan.acknowledged + plan.retries.map(\.entryId) + plan.dead.map(\.entryId)
        #expect(settled.sorted() == entries.map(\.id).sorted())
    }

    /// Entries whose result is unknown (the store was not asked: it failed) are left alone, never settled.
    @Test func entriesWithoutAResultAreNotSettled() {
        let entries = [entry("1-0"), entry("2-0", body: "not json")]
        let plan = BatchPlan.settle(entries, BatchPlan.decode(entries), disposition: disposition, nowMilliseconds: now) { 1 }
        #expect(plan.acknowledged.isEmpty && plan.retries.isEmpty)
        #expect(plan.dead.map(\.entryId) == ["2-0"])
    }
}
