import Foundation
import Model
import Postgres
import Queue
import Redis
import Testing
import TestSupport

/// Infrastructure failures are not the events' fault: nothing dead-lettered, nothing lost (docs/architecture.md,
/// "The guarantees and where each is kept").
@Suite struct WorkerOutageTests {
    @Test func postgresConnectionsTerminatedMidStreamDeadLetterNothing() async throws {
        let fixture = try WorkerFixture("o-terminate")
        let ids = WorkerFixture.documentIds(TestScale.count(3_000))
        try await fixture.seedDocuments(ids)
        let worker = try fixture.launchWorker(environment: ["DOCKET_BATCH_SIZE": "20"])
        try await fixture.enqueue(WorkerFixture.verdicts(for: ids))
        // Kill the worker's backends (only this test's database) several times while it drains.
        var kills = 0
        for _ in 0..<20 {
            let reviewed = try await fixture.reviewedCount()
            if reviewed >= ids.count { break }
            let killed = try await fixture.postgres.query(
                """
                SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                """).rows.first?.int("n") ?? 0
            kills += killed
            try await Task.sleep(for: .milliseconds(150))
        }
        try await fixture.waitUntilDrained(reviewed: ids.count, timeout: .seconds(60), workers: [worker])
        #expect(kills > 0)
        #expect(try await fixture.auditCount() == ids.count)
        #expect(try await fixture.deadLetters().isEmpty)
        #expect(try await fixture.retryCount() == 0)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func postgresRestartedMidStreamDeadLettersNothing() async throws {
        let server = try PostgresServerProcess.start()
        let fixture = try WorkerFixture("o-restart", databaseURL: try server.makeDatabase("o_restart"))
        let ids = WorkerFixture.documentIds(TestScale.count(3_000))
        try await fixture.seedDocuments(ids)
        let worker = try fixture.launchWorker(environment: ["DOCKET_BATCH_SIZE": "20"])
        let half = ids.count / 2
        try await fixture.enqueue(WorkerFixture.verdicts(for: Array(ids[..<half])))
        try await waitUntil(timeout: .seconds(30), what: "work under way") {
            try await fixture.reviewedCount() > 0
        }
        server.stop()
        // Events keep arriving while Postgres is down: the worker must hold them, not dead-letter them.
        try await fixture.enqueue(WorkerFixture.verdicts(for: Array(ids[half...])))
        try await Task.sleep(for: .seconds(1))
        try server.restart()
        try await fixture.waitUntilDrained(reviewed: ids.count, timeout: .seconds(60), workers: [worker])
        #expect(try await fixture.auditCount() == ids.count)
        #expect(try await fixture.deadLetters().isEmpty)
        #expect(try await fixture.retryCount() == 0)
        #expect(worker.output.contains("backing off"))
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func redisRestartedWithoutPersistenceRecreatesTheGroup() async throws {
        let server = try RedisServerProcess.start(appendOnly: false)
        let fixture = try WorkerFixture("o-redis", redisURL: server.url)
        let before = WorkerFixture.documentIds(50, "before")
        let after = WorkerFixture.documentIds(50, "after")
        try await fixture.seedDocuments(before + after)
        let worker = try fixture.launchWorker()
        try await fixture.enqueue(WorkerFixture.verdicts(for: before))
        try await fixture.waitUntilDrained(reviewed: before.count, timeout: .seconds(20), workers: [worker])
        try server.restart()
        // The stream and its group are gone; give the worker a moment to hit NOGROUP or a lost connection.
        try await Task.sleep(for: .seconds(1))
        try await waitUntil(timeout: .seconds(20), what: "Redis answering again") {
            (try? await fixture.redis.send("PING")) != nil
        }
        try await fixture.enqueue(WorkerFixture.verdicts(for: after))
        try await fixture.waitUntilDrained(reviewed: before.count + after.count, timeout: .seconds(30), workers: [worker])
        #expect(try await fixture.auditCount() == before.count + after.count)
        #expect(try await fixture.deadLetters().isEmpty)
        worker.terminate()
        #expect(worker.waitForExit(timeout: .seconds(10)) == 0)
    }
}
