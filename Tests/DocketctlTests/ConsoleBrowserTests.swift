import Foundation
import Postgres
import TestSupport
import Testing

/// The console in a real browser (Debian's chromium, headless, driven by Tests/Browser/console_browser.py through
/// Selenium and chromedriver) against a real `docketctl console` and a real `docket-worker`: log in, read the overview,
/// open a dead letter, replay it, see the count drop and the review decided. Screenshots go to
/// `$DOCKET_TEST_ARTIFACTS/console` (ops/test prints where), else to a temporary folder.
@Suite struct ConsoleBrowserTests {
    @Test func replayADeadLetterFromTheBrowser() async throws {
        let harness = try await ConsoleHarness("console-browser")
        let documentId = "doc-browser-\(TestEnvironment.randomHex(6))"
        let reviewIds = try await harness.store.submitAtomically { try $0.submit(["https://docs.example.com/browser.pdf"]) }
        _ = try harness.sql(
            "UPDATE document_reviews SET document_status = 'PENDING_REVIEW', document_id = $1, agent_id = 'agent-1' WHERE id = $2",
            [.text(documentId), .int(reviewIds[0])])
        // A verdict that was given up on (say, it arrived before the review was recorded) and can now be applied.
        let deadIds = try await harness.makeDeadLetters([(documentId, "document unknown after 10 attempts")])

        let environment = [
            "DOCKET_REDIS_URL": TestEnvironment.redisURL, "DOCKET_REDIS_PREFIX": harness.prefix,
            "DOCKET_DATABASE_URL": harness.databaseURL, "DOCKET_METRICS_PORT": "0",
        ]
        let worker = try ChildProcess.launch(product: "docket-worker", environment: environment)
        defer { worker.terminate() }
        let port = freePort()
        let console = try ChildProcess.launch(
            product: "docketctl", arguments: ["console", "--listen", "127.0.0.1:\(port)"],
            environment: environment.merging(["DOCKET_CONSOLE_TOKEN": ConsoleHarness.token]) { _, new in new })
        defer { console.terminate() }
        try waitUntil(timeout: .seconds(20), what: "the console listening") { console.output.contains("Docket console on http://127.0.0.1:\(port)/") }
        #expect(!console.output.contains("login?token="), "a configured token is never printed")

        let screenshots = Self.screenshotFolder()
        let script = TestEnvironment.packageRoot().appendingPathComponent("Tests/Browser/console_browser.py").path
        let run = try ChildProcess.run(product: "/usr/bin/env", arguments: [
            "python3", script, "--url", "http://127.0.0.1:\(port)", "--token", ConsoleHarness.token, "--dead-id", deadIds[0],
            "--document-id", documentId, "--review-id", String(reviewIds[0]), "--screenshots", screenshots,
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)\nconsole: \(console.output)\nworker: \(worker.output)")
        print("console screenshots: \(screenshots)")

        // The action is logged with who and what.
        #expect(console.output.contains("console replayed dead letters"), "\(console.output)")
        #expect(console.output.contains("entry_ids=\(deadIds[0])"), "\(console.output)")
        #expect(console.output.contains("session=session-"), "\(console.output)")
        // What the browser saw is what happened.
        #expect(try await harness.deadCount() == 0)
        let row = try harness.sql("SELECT document_status FROM document_reviews WHERE id = $1", [.int(reviewIds[0])]).rows.first
        #expect(row?["document_status"] == "ACCEPTED")
        for name in ["overview.png", "dead-letters.png", "dead-letter.png", "review.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(screenshots)/\(name)"), "\(name)")
        }
    }

    static func screenshotFolder() -> String {
        if let artifacts = ProcessInfo.processInfo.environment["DOCKET_TEST_ARTIFACTS"], !artifacts.isEmpty {
            return artifacts + "/console"
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("docket-console-\(UUID().uuidString.prefix(8))").path
    }
}
