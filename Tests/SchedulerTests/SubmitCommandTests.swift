import Foundation
import TestSupport
import Testing

/// `docketctl submit` and `docketctl migrate` as an operator runs them (the built docketctl binary).
@Suite("docketctl submit and migrate")
struct SubmitCommandTests {
    func docketctl(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess.run(product: "docketctl", arguments: arguments, stdin: stdin)
    }

    func count(_ harness: SchedulerHarness) async throws -> Int {
        try await harness.database.query("SELECT count(*) AS n FROM document_reviews").rows.first?.int("n") ?? -1
    }

    @Test func migrateReportsWhatItDid() async throws {
        let url = try TestEnvironment.makeDatabase("ctl-migrate")
        let first = try docketctl(["migrate", "--database-url", url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("applied migration"))
        let second = try docketctl(["migrate", "--database-url", url])
        #expect(second.status == 0)
        #expect(second.stdout.hasPrefix("schema is up to date (version "))
    }

    @Test func submitQueuesArgumentsAndPrintsTheirIds() async throws {
        let harness = try await SchedulerHarness.make("ctl-submit")
        defer { harness.shutdown() }
        let urls = SchedulerHarness.urls(3)
        let result = try docketctl(["submit", "--database-url", harness.databaseURL] + urls)
        #expect(result.status == 0, "\(result.stderr)")
        let ids = result.stdout.split(separator: "\n").compactMap { Int($0) }
        let reviews = try await harness.reviews()
        #expect(ids == reviews.map(\.id))
        #expect(reviews.map(\.url) == urls)
        #expect(reviews.allSatisfy { $0.status == "QUEUED" && $0.attempts == 0 })
    }

    @Test func oneBadArgumentQueuesNothing() async throws {
        let harness = try await SchedulerHarness.make("ctl-badarg")
        defer { harness.shutdown() }
        let result = try docketctl(["submit", "--database-url", harness.databaseURL, "https://ok.example/a", "ftp://nope.example/b", "https://ok.example/c"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("argument 2"), "\(result.stderr)")
        #expect(result.stderr.contains("ftp://nope.example/b"))
        #expect(result.stdout.isEmpty)
        #expect(try await count(harness) == 0)
    }

    @Test func aBadLineDeepInAFileQueuesNothing() async throws {
        let harness = try await SchedulerHarness.make("ctl-badfile")
        defer { harness.shutdown() }
        var lines = SchedulerHarness.urls(12_000)
        lines[10_499] = "https://"  // line 10,500: past two full 5,000-row batches
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestEnvironment.uniquePrefix("urls")).txt").path
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try docketctl(["submit", "--database-url", harness.databaseURL, "--file", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 10500"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try await count(harness) == 0)
    }

    @Test func aFileAndStandardInputAreQueuedInOrder() async throws {
        let harness = try await SchedulerHarness.make("ctl-file")
        defer { harness.shutdown() }
        let urls = SchedulerHarness.urls(7_001)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestEnvironment.uniquePrefix("urls")).txt").path
        // CRLF endings, blank lines and surrounding spaces are tolerated.
        try Data(("\r\n" + urls.map { "  \($0)\r\n" }.joined() + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try docketctl(["submit", "--database-url", harness.databaseURL, "--file", path])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout.split(separator: "\n").count == 7_001)

        let fromStdin = try docketctl(["submit", "--database-url", harness.databaseURL, "--file", "-"], stdin: "https://in.example/1\nhttps://in.example/2\n")
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        let stdinIds = fromStdin.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(stdinIds.count == 2)

        let reviews = try await harness.reviews()
        #expect(reviews.map(\.url) == urls + ["https://in.example/1", "https://in.example/2"])
        #expect(Array(reviews.suffix(2).map(\.id)) == stdinIds)
    }

    @Test func nothingToSubmitIsAUsageError() throws {
        let result = try docketctl(["submit", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
        #expect(result.status == 2)
    }
}
