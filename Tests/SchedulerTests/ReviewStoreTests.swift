import Foundation
import Model
import Postgres
import Store
import TestSupport
import Testing

/// ReviewStore's SQL against a real database: claims, leases, recording, stats.
@Suite("ReviewStore")
struct ReviewStoreTests {
    let store = ReviewStore()

    @Test func concurrentClaimersNeverShareARow() async throws {
        let harness = try await SchedulerHarness.make("store-claims")
        defer { harness.shutdown() }
        let submitted = try await harness.submit(SchedulerHarness.urls(400))
        let clients = (0..<4).map { _ in PostgresClient(url: harness.databaseURL) }
        defer { clients.forEach { $0.shutdown() } }
        let store = self.store
        let claims = try await withThrowingTaskGroup(of: [Int].self) { group in
            for client in clients {
                group.addTask {
                    var mine: [Int] = []
                    while true {
                        let batch = try await client.withConnection { try store.claimDue(limit: 7, lease: .seconds(60), on: $0) }
                        if batch.isEmpty { return mine }
                        mine += batch.map(\.id)
                    }
                }
            }
            var all: [[Int]] = []
            for try await claimed in group { all.append(claimed) }
            return all
        }
        let flattened = claims.flatMap { $0 }
        #expect(flattened.count == 400)
        #expect(Set(flattened) == Set(submitted))
    }

    @Test func leasesExpireAndReleasesFreeAtOnce() async throws {
        let harness = try await SchedulerHarness.make("store-lease")
        defer { harness.shutdown() }
        try await harness.submit(["https://a.example/1", "https://a.example/2"])
        let store = self.store
        let started = ContinuousClock.now
        let claimed = try await harness.database.withConnection { try store.claimDue(limit: 10, lease: .seconds(2), on: $0) }
        #expect(claimed.map(\.documentURL) == ["https://a.example/1", "https://a.example/2"])
        #expect(claimed.allSatisfy { $0.requestAttempts == 0 })
        #expect(try await harness.database.withConnection { try store.claimDue(limit: 10, lease: .seconds(60), on: $0) }.isEmpty)
        var retaken: [ClaimedReview] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(15))
        while retaken.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            retaken = try await harness.database.withConnection { try store.claimDue(limit: 10, lease: .seconds(60), on: $0) }
        }
        #expect(started.duration(to: .now) >= .milliseconds(1900))
        #expect(retaken.count == 2)
        let retakenIds = retaken.map(\.id)
        try await harness.database.withConnection { try store.releaseClaims(ids: retakenIds, on: $0) }
        #expect(try await harness.database.withConnection { try store.claimDue(limit: 1, lease: .seconds(60), on: $0) }.count == 1)
    }

    @Test func recordingMovesOnlyQueuedReviews() async throws {
        let harness = try await SchedulerHarness.make("store-record")
        defer { harness.shutdown() }
        let ids = try await harness.submit(["https://a.example/ok", "https://a.example/retry", "https://a.example/fail"])
        let store = self.store
        try await harness.database.withConnection { connection in
            _ = try store.claimDue(limit: 3, lease: .seconds(60), on: connection)
            #expect(try store.recordAccepted(id: ids[0], agentId: "agent-1", documentId: "doc-1", on: connection))
            // A late second answer for the same review changes nothing.
            #expect(try !store.recordAccepted(id: ids[0], agentId: "agent-2", documentId: "doc-2", on: connection))
            #expect(try store.recordRetry(id: ids[1], error: "Help Desk answered 503", retryAfter: .seconds(60), on: connection))
            #expect(try store.recordFailed(id: ids[2], reason: "Help Desk answered 400", on: connection))
            #expect(try !store.recordRetry(id: ids[2], error: "late", retryAfter: .zero, on: connection))
            // The retried review is not due for a minute, the others are done: nothing to claim.
            #expect(try store.claimDue(limit: 10, lease: .seconds(60), on: connection).isEmpty)
            let duplicate = try #require(throws: PostgresError.self) {
                try connection.query("UPDATE document_reviews SET document_status = 'QUEUED' WHERE id = $1", [.int(ids[1])])
                try store.recordAccepted(id: ids[1], agentId: "agent-3", documentId: "doc-1", on: connection)
            }
            #expect(duplicate.sqlState == "23505")
        }
        let reviews = try await harness.reviews()
        #expect(reviews.map(\.status) == ["PENDING_REVIEW", "QUEUED", "REQUEST_FAILED"])
        #expect(reviews.map(\.attempts) == [1, 1, 1])
        #expect(reviews[0].agentId == "agent-1" && reviews[0].documentId == "doc-1")
        #expect(reviews[1].lastError == "Help Desk answered 503")
        #expect(reviews[2].lastError == "Help Desk answered 400")
        #expect(reviews.allSatisfy { !$0.claimed })
    }

    /// A Help Desk that answers two reviews with the same documentId: the second is failed, never stored twice (its
    /// verdict would go to the other review).
    @Test func aDocumentIdAnotherReviewHoldsFailsTheReviewAlone() async throws {
        let harness = try await SchedulerHarness.make("store-taken-id")
        defer { harness.shutdown() }
        let ids = try await harness.submit(["https://a.example/one", "https://a.example/two"])
        let store = self.store
        try await harness.database.withConnection { connection in
            _ = try store.claimDue(limit: 2, lease: .seconds(60), on: connection)
            #expect(try store.recordAlone(.accepted(id: ids[0], agentId: "a1", documentId: "doc-same"), on: connection))
            #expect(try store.recordAlone(.accepted(id: ids[1], agentId: "a2", documentId: "doc-same"), on: connection))
        }
        let reviews = try await harness.reviews()
        #expect(reviews.map(\.status) == ["PENDING_REVIEW", "REQUEST_FAILED"])
        #expect(reviews[1].documentId == nil)
        #expect(reviews[1].lastError == "Help Desk answered with documentId doc-same, which another review already has")
    }

    @Test func statsCountStatusesAndStaleReviews() async throws {
        let harness = try await SchedulerHarness.make("store-stats")
        defer { harness.shutdown() }
        let ids = try await harness.submit(SchedulerHarness.urls(4))
        let store = self.store
        try await harness.database.withConnection { connection in
            #expect(try store.oldestPendingReviewAge(on: connection) == nil)
            try store.recordAccepted(id: ids[0], agentId: "a", documentId: "d0", on: connection)
            try store.recordAccepted(id: ids[1], agentId: "a", documentId: "d1", on: connection)
            try connection.query("UPDATE document_reviews SET updated_at = now() - interval '2 hours' WHERE id = $1", [.int(ids[0])])
            try store.recordFailed(id: ids[2], reason: "x", on: connection)
            let counts = try store.countByStatus(on: connection)
            #expect(counts == [.queued: 1, .pendingReview: 2, .accepted: 0, .declined: 0, .requestFailed: 1])
            let age = try #require(try store.oldestPendingReviewAge(on: connection))
            #expect(age > 7_190 && age < 7_300)
            #expect(try store.stalePendingCount(olderThan: .seconds(3_600), on: connection) == 1)
            #expect(try store.stalePendingCount(olderThan: .seconds(3 * 3_600), on: connection) == 0)
        }
    }
}
