import Logging
import Model
import Queue
import Store
import Synchronization
import Testing
@testable import Worker

/// `BatchProcessor`'s branches with an in-memory store and settler (the real ones are tested against Postgres and
/// Redis in `VerdictStoreTests`, `WorkerProcessTests` and the system tests).
@Suite struct BatchProcessorTests {
    struct Unavailable: Error {}

    /// Answers each record from a script by webhook id, or fails as an unavailable store.
    final class ScriptedVerdicts: VerdictSink {
        let outcomes: [String: VerdictOutcome]
        let fails: Bool
        /// Answers one outcome short, as a broken store might.
        let short: Bool
        let calls = Mutex<[[String]]>([])

        init(_ outcomes: [String: VerdictOutcome] = [:], fails: Bool = false, short: Bool = false) {
            self.outcomes = outcomes
            self.fails = fails
            self.short = short
        }

        func apply(_ records: [VerdictRecord]) async throws -> [VerdictOutcome] {
            calls.withLock { $0.append(records.map(\.webhookId)) }
            if fails { throw Unavailable() }
            let answers = records.map { outcomes[$0.webhookId] ?? .applied }
            return short ? Array(answers.dropLast()) : answers
        }
    }

    /// Records every plan it is given, or fails as an unreachable Redis.
    final class RecordingSettler: EntrySettler {
        let fails: Bool
        let trimmedPerCall: Int
        let plans = Mutex<[BatchPlan]>([])

        init(fails: Bool = false, trimmedPerCall: Int = 0) {
            self.fails = fails
            self.trimmedPerCall = trimmedPerCall
        }

        func settle(_ plan: BatchPlan, consumer: String, failedAtMilliseconds: Int) async throws -> Int {
            if fails { throw Unavailable() }
            plans.withLock { $0.append(plan) }
            return trimmedPerCall
        }
    }

    func processor(_ verdicts: some VerdictSink, _ settler: some EntrySettler) -> BatchProcessor {
        BatchProcessor(
            verdicts: verdicts, settler: settler,
            disposition: EventDisposition(policy: RetryPolicy(base: .seconds(1), cap: .seconds(60), maxAttempts: 3)),
            consumer: "test", metrics: WorkerMetrics(), logger: Logger(label: "test"), random: { 1 },
            wallClock: { 1_700_000_000_000 })
    }

    func entry(_ id: String, body: String? = nil) -> StreamEntry {
        let json = body ?? #"{"agentId":"a","documentId":"doc-\#(id)","documentStatus":"ACCEPTED"}"#
        return StreamEntry(id: "\(id)-0", fields: EventEnvelope(
            webhookId: "wh-\(id)", timestamp: 1_700_000_000, receivedAt: 1, body: Array(json.utf8)).fields)
    }

    @Test func eachOutcomeIsSettledAsItsDispositionSays() async throws {
        let verdicts = ScriptedVerdicts(["wh-2": .duplicate, "wh-3": .unknownDocument, "wh-4": .wrongState("REQUEST_FAILED")])
        let settler = RecordingSettler()
        let summary = try await processor(verdicts, settler).process([entry("1"), entry("2"), entry("3"), entry("4"), entry("5", body: "{")])
        #expect(summary == BatchProcessor.Summary(acknowledged: 2, retried: 1, deadLettered: 2))
        #expect(verdicts.calls.withLock { $0 } == [["wh-1", "wh-2", "wh-3", "wh-4"]], "the invalid body never reaches the store")
        let plan = try #require(settler.plans.withLock { $0 }.first)
        #expect(plan.acknowledged == ["1-0", "2-0"])
        #expect(plan.retries.map(\.entryId) == ["3-0"])
        #expect(plan.dead.map(\.entryId) == ["4-0", "5-0"])
    }

    /// An unavailable store settles nothing: the entries stay pending and the consumer retries the batch in hand.
    @Test func anUnavailableStoreSettlesNothing() async {
        let settler = RecordingSettler()
        await #expect(throws: Unavailable.self) {
            try await processor(ScriptedVerdicts(fails: true), settler).process([entry("1"), entry("2")])
        }
        #expect(settler.plans.withLock { $0 }.isEmpty)
    }

    /// A store that answers fewer outcomes than verdicts gets nothing settled: no entry is left unsettled silently.
    @Test func aShortAnswerFromTheStoreSettlesNothing() async {
        let settler = RecordingSettler()
        await #expect(throws: BatchProcessor.StoreAnswerMismatch.self) {
            try await processor(ScriptedVerdicts(short: true), settler).process([entry("1"), entry("2")])
        }
        #expect(settler.plans.withLock { $0 }.isEmpty)
    }

    /// Redis failing after the store committed throws too; the retried batch then finds its verdicts duplicate.
    @Test func aFailedSettlementIsThrown() async {
        await #expect(throws: Unavailable.self) {
            try await processor(ScriptedVerdicts(), RecordingSettler(fails: true)).process([entry("1")])
        }
    }

    /// A batch of nothing but undecodable entries is dead-lettered without asking the store.
    @Test func aBatchWithoutVerdictsSkipsTheStore() async throws {
        let verdicts = ScriptedVerdicts()
        let settler = RecordingSettler(trimmedPerCall: 2)
        let summary = try await processor(verdicts, settler).process([entry("1", body: "[]"), StreamEntry(id: "2-0", fields: [])])
        #expect(summary == BatchProcessor.Summary(acknowledged: 0, retried: 0, deadLettered: 2))
        #expect(verdicts.calls.withLock { $0 }.isEmpty)
        #expect(try await processor(verdicts, settler).process([]) == BatchProcessor.Summary())
        #expect(settler.plans.withLock { $0 }.count == 1, "an empty batch settles nothing")
    }
}
