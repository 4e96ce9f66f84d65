import Foundation
import TestSupport
import Testing

/// Issue 7, system test 1: documents flow through the real executables while the Help Desk delivers duplicates.
@Suite struct FlowTests {
    /// 500 documents at scale 1 (`DOCKET_TEST_SCALE`); about 5 s on two cores with debug builds.
    static let baseCount = 500

    @Test(.timeLimit(.minutes(5)))
    func everyDocumentEndsAsTheHelpDeskDecidedWithDuplicateDeliveries() async throws {
        let count = SystemTestScale.count(Self.baseCount)
        var settings = DocketSystem.Settings()
        settings.simDelay = "50-300"
        settings.duplicateRate = 0.2
        settings.workerCount = 2
        let system = try DocketSystem(
            name: "flow", redisURL: TestEnvironment.redisURL, databaseURL: try TestEnvironment.makeDatabase("system_flow"),
            settings: settings)
        try system.start()

        try system.submit(count, tag: "flow")
        try await system.waitUntilSettled(count: count, timeout: .seconds(60 + count / 10))

        let reviews = try await system.expectEveryDocumentDecidedAsTheSimDecided(count: count)
        // The duplicates really happened (same webhook-id twice), and the gateway's dedupe or the worker's
        // exactly-once apply absorbed them: one audit row per webhook id was checked above.
        let duplicated = reviews.filter { $0.deliveryAttempts > 1 }.count
        #expect(duplicated > 0, "no review was delivered twice at --duplicate-rate 0.2")
        let statuses = Set(reviews.map(\.documentStatus))
        #expect(statuses == ["ACCEPTED", "DECLINED"], "both verdicts occur: \(statuses)")
    }
}
