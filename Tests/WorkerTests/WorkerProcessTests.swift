import Foundation
import Model
import Postgres
import Queue
import Redis
import Testing
import TestSupport

/// Real `docket-worker` processes against real Redis and Postgres (docs/architecture.md,
/// "The guarantees and where each is kept"; issue 4's list).
@Suite struct WorkerProcessTests {
    @Test func eventsEnqueuedBeforeAnyWorkerRanAreApplied() async throws {
        let fixture = try WorkerFixture("w-before")
        let ids = WorkerFixture.documentIds(300)
        try await fixture.seedDocuments(ids)
        try await fixture.enqueue(WorkerFixture.verdicts(for: ids, status: .declined))
        let worker = try fixture.launchWorker()
        try await fixture.waitUntilDrained(reviewed: ids.count, timeout: .seconds(30), workers: [worker])
        #expect(try await fixture.auditCount() == ids.count)
        #expect(try await fixture.document("doc-17")?.status == "DECLINED")
        #expect(try await fixture.deadLetters().isEmpty)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func webhookDeliveredTwiceWritesItsDocumentOnce() async throws {
        let fixture = try WorkerFixture("w-twice")
        try await fixture.seedDocuments(["d1"])
        let event = EventEnvelope(webhookId: "wh-1", timestamp: 1_000, receivedAt: 1, body: WorkerFixture.body(documentId: "d1"))
        try await fixture.enqueue([event])
        // A second delivery of the same webhook id (past the gateway's dedupe), with a body that would show a second write.
        var again = event
        again.body = WorkerFixture.body(documentId: "d1", status: .declined, agent: "other")
        try await fixture.addRaw(again.fields.map { ($0.name, $0.value) })
        let worker = try fixture.launchWorker()
        try await waitUntil(timeout: .seconds(20), what: "both deliveries settled") {
            let backlog = try await fixture.streamLength(fixture.queue.keys.events)
            let reviewed = try await fixture.reviewedCount()
            return backlog == 0 && reviewed == 1
        }
        let document = try await fixture.document("d1")
        #expect(document?.status == "ACCEPTED")
        #expect(document?.agent == "agent-7")
        #expect(try await fixture.auditCount() == 1)
        #expect(try await fixture.deadLetters().isEmpty)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func olderVerdictArrivingAfterANewerOneDoesNotOverwriteIt() async throws {
        let fixture = try WorkerFixture("w-order")
        try await fixture.seedDocuments(["d1"])
        let worker = try fixture.launchWorker()
        let newer = EventEnvelope(webhookId: "wh-new", timestamp: 2_000, receivedAt: 1, body: WorkerFixture.body(documentId: "d1", status: .declined))
        try await fixture.enqueue([newer])
        try await fixture.waitUntilDrained(reviewed: 1, timeout: .seconds(20), workers: [worker])
        let older = EventEnvelope(webhookId: "wh-old", timestamp: 1_000, receivedAt: 2, body: WorkerFixture.body(documentId: "d1", status: .accepted))
        try await fixture.enqueue([older])
        try await waitUntil(timeout: .seconds(20), what: "the older verdict settled") {
            try await fixture.streamLength(fixture.queue.keys.events) == 0
        }
        let document = try await fixture.document("d1")
        #expect(document?.status == "DECLINED")
        #expect(document?.lastEventTs == 2_000)
        #expect(document?.lastWebhookId == "wh-new")
        // Only the verdict that took effect is in the audit trail; the stale one was acknowledged without a write.
        #expect(try await fixture.auditCount() == 1)
        #expect(try await fixture.deadLetters().isEmpty)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func unknownDocumentIsRetriedWithBackoffAndAppliedOnceItsRowAppears() async throws {
        let fixture = try WorkerFixture("w-unknown")
        let worker = try fixture.launchWorker(environment: [
            "DOCKET_RETRY_BASE_MS": "100", "DOCKET_RETRY_CAP_MS": "400", "DOCKET_MAX_ATTEMPTS": "100",
        ])
        try await fixture.enqueue(WorkerFixture.verdicts(for: ["late"]))
        // It waits in the retry set (not dead, not applied) until the scheduler's row appears.
        try await waitUntil(timeout: .seconds(20), what: "the event in the retry set") {
            try await fixture.retryCount() == 1
        }
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await fixture.deadLetters().isEmpty)
        try await fixture.seedDocuments(["late"])
        try await fixture.waitUntilDrained(reviewed: 1, timeout: .seconds(20), workers: [worker])
        #expect(try await fixture.retryCount() == 0)
        #expect(try await fixture.deadLetters().isEmpty)
        #expect(worker.output.contains("Event will be retried"))
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func unknownDocumentIsDeadLetteredAfterTheAttemptsWithTheReason() async throws {
        let fixture = try WorkerFixture("w-exhaust")
        let worker = try fixture.launchWorker(consumer: "exhaust-1", environment: [
            "DOCKET_RETRY_BASE_MS": "20", "DOCKET_RETRY_CAP_MS": "50", "DOCKET_MAX_ATTEMPTS": "3",
        ])
        try await fixture.enqueue(WorkerFixture.verdicts(for: ["never"]))
        try await waitUntil(timeout: .seconds(20), what: "a dead letter") {
            try await fixture.deadLetters().count == 1
        }
        let dead = try #require(try await fixture.deadLetters().first)
        #expect(dead.webhookId == "wh-never")
        #expect(dead.error.contains("unknown document"))
        #expect(dead.error.contains("gave up after 3 attempts"))
        #expect(dead.attempts == 3)
        #expect(dead.consumer == "exhaust-1")
        #expect(dead.failedAtMilliseconds > 0)
        #expect(dead.body == WorkerFixture.body(documentId: "never"))
        #expect(try await fixture.retryCount() == 0)
        #expect(try await fixture.streamLength(fixture.queue.keys.events) == 0)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func undecodableBodyIsDeadLetteredAtOnce() async throws {
        let fixture = try WorkerFixture("w-undecodable")
        try await fixture.seedDocuments(["d1"])
        try await fixture.enqueue([
            EventEnvelope(webhookId: "wh-bad", timestamp: 1, receivedAt: 1, body: Array("not json".utf8)),
            EventEnvelope(webhookId: "wh-good", timestamp: 1, receivedAt: 1, body: WorkerFixture.body(documentId: "d1")),
        ])
        // An entry that is not an envelope at all (no timestamp).
        try await fixture.addRaw([("webhook_id", Array("wh-broken".utf8)), ("body", Array("{}".utf8))])
        let worker = try fixture.launchWorker(environment: ["DOCKET_MAX_ATTEMPTS": "10"])
        try await waitUntil(timeout: .seconds(20), what: "two dead letters and one applied") {
            let dead = try await fixture.deadLetters().count
            let reviewed = try await fixture.reviewedCount()
            return dead == 2 && reviewed == 1
        }
        let dead = try await fixture.deadLetters()
        let bad = try #require(dead.first { $0.webhookId == "wh-bad" })
        #expect(bad.error.hasPrefix("invalid body"))
        #expect(bad.attempts == 1)
        let broken = try #require(dead.first { $0.webhookId == "wh-broken" })
        #expect(broken.error.hasPrefix("undecodable event"))
        #expect(try await fixture.retryCount() == 0)
        // Bodies are never logged.
        #expect(!worker.output.contains("not json"))
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func poisonEntryDeliveredTooOftenIsDeadLettered() async throws {
        let fixture = try WorkerFixture("w-poison")
        try await fixture.seedDocuments(["d1"])
        try await fixture.enqueue(WorkerFixture.verdicts(for: ["d1"]))
        // A consumer that keeps receiving the entry and dying: six deliveries, never acknowledged.
        let events = RedisArgument(fixture.queue.keys.events)
        try await fixture.redis.send("XREADGROUP", "GROUP", "workers", "ghost", "COUNT", "10", "STREAMS", events, ">")
        for _ in 0..<5 {
            try await fixture.redis.send("XREADGROUP", "GROUP", "workers", "ghost", "COUNT", "10", "STREAMS", events, "0")
        }
        let worker = try fixture.launchWorker(environment: [
            "DOCKET_VISIBILITY_TIMEOUT_MS": "300", "DOCKET_MAX_DELIVERIES": "5",
        ])
        try await waitUntil(timeout: .seconds(20), what: "the poison dead letter") {
            try await fixture.deadLetters().count == 1
        }
        let dead = try #require(try await fixture.deadLetters().first)
        #expect(dead.error == "poison: delivered 6 times")
        #expect(try await fixture.pendingCount() == 0)
        #expect(try await fixture.reviewedCount() == 0)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func sigtermExitsZeroWithNothingPendingForThatConsumer() async throws {
        let fixture = try WorkerFixture("w-sigterm")
        let ids = WorkerFixture.documentIds(TestScale.count(3_000))
        try await fixture.seedDocuments(ids)
        let worker = try fixture.launchWorker(consumer: "leaving-1", environment: ["DOCKET_BATCH_SIZE": "20"])
        try await fixture.enqueue(WorkerFixture.verdicts(for: ids))
        try await waitUntil(timeout: .seconds(30), what: "work under way") {
            try await fixture.reviewedCount() > 0
        }
        worker.terminate()
        let started = ContinuousClock.now
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
        #expect(ContinuousClock.now - started < .seconds(10))
        let pending = try await fixture.redis.send(
            "XPENDING", RedisArgument(fixture.queue.keys.events), "workers", "-", "+", "1000", "leaving-1")
        #expect(pending.array?.isEmpty == true, "\(worker.output.suffix(2000))")
        // What it applied is exactly what left the stream.
        let applied = try await fixture.reviewedCount()
        let left = try await fixture.streamLength(fixture.queue.keys.events)
        #expect(applied + left == ids.count)
    }

    @Test func killedWorkersEntriesAreReclaimedAndEveryEventAppliedOnce() async throws {
        let fixture = try WorkerFixture("w-kill9")
        let ids = WorkerFixture.documentIds(TestScale.count(4_000))
        try await fixture.seedDocuments(ids)
        let environment = ["DOCKET_VISIBILITY_TIMEOUT_MS": "1000", "DOCKET_BATCH_SIZE": "25"]
        let victim = try fixture.launchWorker(consumer: "victim", environment: environment)
        let survivor = try fixture.launchWorker(consumer: "survivor", environment: environment)
        try await fixture.enqueue(WorkerFixture.verdicts(for: ids))
        try await waitUntil(timeout: .seconds(30), what: "work under way") {
            try await fixture.reviewedCount() > ids.count / 10
        }
        victim.kill9()
        _ = victim.waitForExit(timeout: .seconds(5))
        let orphaned = try await fixture.redis.send(
            "XPENDING", RedisArgument(fixture.queue.keys.events), "workers", "-", "+", "1000", "victim").array?.count ?? 0
        try await fixture.waitUntilDrained(reviewed: ids.count, timeout: .seconds(60), workers: [survivor])
        if orphaned > 0 {
            #expect(survivor.output.contains("Reclaimed entries idle past the visibility timeout"))
        }
        #expect(try await fixture.auditCount() == ids.count)
        #expect(try await fixture.deadLetters().isEmpty)
        survivor.terminate()
        #expect(survivor.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func threeWorkersOverTenThousandEventsApplyEachOnce() async throws {
        let fixture = try WorkerFixture("w-three")
        let ids = WorkerFixture.documentIds(TestScale.count(10_000))
        try await fixture.seedDocuments(ids)
        let workers = try (0..<3).map { try fixture.launchWorker(consumer: "w\($0)") }
        try await fixture.enqueue(WorkerFixture.verdicts(for: ids))
        try await fixture.waitUntilDrained(reviewed: ids.count, timeout: .seconds(90), workers: workers)
        #expect(try await fixture.auditCount() == ids.count)
        #expect(try await fixture.deadLetters().isEmpty)
        for worker in workers { worker.terminate() }
        for worker in workers { #expect(worker.waitForExit(timeout: .seconds(10)) == 0) }
    }

    /// The dead stream stays within DOCKET_DEAD_MAXLEN, keeping the newest, and every trim is said: a warning in the log
    /// and docket_worker_dead_trimmed_total.
    @Test func deadStreamStaysWithinItsBoundAndSaysSo() async throws {
        let fixture = try WorkerFixture("w-deadmax")
        for index in 0..<5 {
            try await fixture.addRaw([
                ("webhook_id", Array("bad-\(index)".utf8)), ("timestamp", Array("1700000000".utf8)),
                ("received_at", Array("1".utf8)), ("body", Array("not json".utf8)), ("attempt", Array("0".utf8)),
            ])
        }
        let port = freePort()
        let worker = try fixture.launchWorker(environment: ["DOCKET_DEAD_MAXLEN": "2", "DOCKET_METRICS_PORT": "\(port)"])
        try await waitUntil(timeout: .seconds(20), what: "five invalid events dead-lettered") {
            let backlog = try await fixture.streamLength(fixture.queue.keys.events)
            let pending = try await fixture.pendingCount()
            return backlog == 0 && pending == 0
        }
        #expect(try await fixture.deadLetters().map(\.webhookId) == ["bad-3", "bad-4"])
        #expect(worker.output.contains("Dead stream at its bound"), "\(worker.output.suffix(2000))")
        let metrics = try LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/metrics").body
        #expect(metrics.split(separator: "\n").contains("docket_worker_dead_trimmed_total 3"), "\(metrics)")
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    /// Bad bounds stop the worker at start with exit 2 and one line naming the setting; nothing is consumed.
    @Test(arguments: [
        (["--audit-retention", "30m"], [:], "--audit-retention (DOCKET_AUDIT_RETENTION) must be 0 (off) or at least 1h, got 30m"),
        ([], ["DOCKET_AUDIT_RETENTION": "forever"], "DOCKET_AUDIT_RETENTION must be 0 (off) or a duration such as 12h or 30d, got \"forever\""),
        (["--dead-maxlen=-1"], [:], "--dead-maxlen (DOCKET_DEAD_MAXLEN) must be at least 0, got -1"),
    ] as [([String], [String: String], String)])
    func badBoundsExit2NamingTheSetting(arguments: [String], environment: [String: String], message: String) throws {
        let result = try ChildProcess.run(
            product: "docket-worker", arguments: arguments,
            environment: environment.merging(["DOCKET_METRICS_PORT": "0"]) { first, _ in first })
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// With DOCKET_AUDIT_RETENTION=0 verdicts apply as always and no audit row is written.
    @Test func retentionZeroWritesNoAuditRows() async throws {
        let fixture = try WorkerFixture("w-audit-off")
        let ids = WorkerFixture.documentIds(20)
        try await fixture.seedDocuments(ids)
        try await fixture.enqueue(WorkerFixture.verdicts(for: ids))
        let worker = try fixture.launchWorker(environment: ["DOCKET_AUDIT_RETENTION": "0"])
        try await fixture.waitUntilDrained(reviewed: ids.count, timeout: .seconds(30), workers: [worker])
        #expect(try await fixture.auditCount() == 0)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }
}
