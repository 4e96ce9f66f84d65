import Model
import Postgres
import Store
import Testing
import TestSupport

/// The exactly-once and newest-wins guarantees as a property (issue 14): any interleaving and duplication of documents'
/// webhooks, applied in any batch split by 1–4 concurrent workers (each its own connection), ends with each document
/// holding the verdict of its newest webhook by (timestamp, webhook id), and no webhook taking effect twice.
@Suite struct VerdictOrderingPropertyTests {
    @Test(arguments: 1...16 as ClosedRange<UInt64>)
    func anyInterleavingEndsWithTheNewestVerdictAndOneEffectEach(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        let fixture = try WorkerFixture("store-property-\(seed)")
        let documents = (0..<12).map { "p\(seed)-doc-\($0)" }
        try await fixture.seedDocuments(documents)

        // 1–8 webhooks per document; timestamps from a narrow range so ties are common; ids unique. Few documents and
        // big batches, so one batch often holds several webhooks of one document.
        var webhooks: [VerdictRecord] = []
        for (d, document) in documents.enumerated() {
            for w in 0..<Int.random(in: 1...8, using: &random) {
                let verdict: Verdict = Bool.random(using: &random) ? .accepted : .declined
                webhooks.append(VerdictRecord(
                    webhookId: "msg_\(Int.random(in: 0...999, using: &random))_\(d)_\(w)",
                    timestamp: 1_700_000_000 + Int.random(in: 0...2, using: &random),
                    verdict: ReviewVerdict(agentId: "agent-\(w)", documentId: document, documentStatus: verdict)))
            }
        }
        // Each webhook delivered 1–3 times, the deliveries shuffled and dealt to the workers.
        var deliveries: [VerdictRecord] = []
        for webhook in webhooks {
            for _ in 0..<Int.random(in: 1...3, using: &random) { deliveries.append(webhook) }
        }
        deliveries.shuffle(using: &random)
        let workerCount = Int.random(in: 1...4, using: &random)
        var shares = [[[VerdictRecord]]](repeating: [], count: workerCount)
        var index = 0
        while index < deliveries.count {
            let size = Int.random(in: 1...40, using: &random)
            let batch = Array(deliveries[index..<min(deliveries.count, index + size)])
            shares[Int.random(in: 0..<workerCount, using: &random)].append(batch)
            index += size
        }

        // The workers run at once, each on its own connection with the worker's session settings.
        let outcomes = try await withThrowingTaskGroup(of: [(VerdictRecord, VerdictOutcome)].self) { group in
            for share in shares {
                let url = fixture.databaseURL
                group.addTask {
                    let client = PostgresClient(url: url, sessionSettings: VerdictStore.sessionSettings)
                    defer { client.shutdown() }
                    var results: [(VerdictRecord, VerdictOutcome)] = []
                    for batch in share {
                        let applied = try await client.withConnection { connection in
                            try VerdictStore().applyIsolatingFailures(batch, on: connection)
                        }
                        for (record, outcome) in zip(batch, applied) { results.append((record, outcome)) }
                    }
                    return results
                }
            }
            var all: [(VerdictRecord, VerdictOutcome)] = []
            for try await results in group { all += results }
            return all
        }

        // No webhook took effect twice, and the audit trail has one row per effect.
        var effects: [String: Int] = [:]
        for (record, outcome) in outcomes where outcome == .applied { effects[record.webhookId, default: 0] += 1 }
        #expect(effects.values.allSatisfy { $0 == 1 }, "seed \(seed): \(effects.filter { $0.value > 1 })")
        let audit = try await fixture.postgres.query("SELECT webhook_id FROM webhook_log").rows.map { $0["webhook_id"] ?? "" }
        #expect(audit.count == effects.count, "seed \(seed)")
        #expect(Set(audit) == Set(effects.keys), "seed \(seed)")
        #expect(outcomes.allSatisfy { [.applied, .duplicate, .stale].contains($0.1) }, "seed \(seed)")

        // Each document holds its newest webhook's verdict, and that webhook took effect exactly once.
        let newest = Dictionary(grouping: webhooks, by: \.verdict.documentId).compactMapValues { group in
            group.max { ($0.timestamp, $0.webhookId) < ($1.timestamp, $1.webhookId) }
        }
        for document in documents {
            let winner = try #require(newest[document])
            let row = try #require(try await fixture.document(document))
            #expect(row.status == winner.verdict.documentStatus.rawValue, "seed \(seed) \(document)")
            #expect(row.agent == winner.verdict.agentId, "seed \(seed) \(document)")
            #expect(row.lastEventTs == winner.timestamp, "seed \(seed) \(document)")
            #expect(row.lastWebhookId == winner.webhookId, "seed \(seed) \(document)")
            #expect(effects[winner.webhookId] == 1, "seed \(seed) \(document)")
        }
    }
}
