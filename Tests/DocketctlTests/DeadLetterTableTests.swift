import Foundation
import Queue
import Testing

@testable import Docketctl

/// `dead list`'s table: ids always whole (an operator copies them into `show` and `replay`), only the reason cut to the
/// terminal's width, nothing cut when the output is not a terminal; and the progress line of `--all` operations.
@Suite struct DeadLetterTableTests {
    static func letter(id: String, webhookId: String, reason: String) -> DeadLetter {
        let body = #"{"agentId":"a","documentId":"doc-\#(webhookId)","documentStatus":"ACCEPTED"}"#
        return DeadLetter(entry: StreamEntry(id: id, fields: [
            (name: "webhook_id", value: Array(webhookId.utf8)),
            (name: "body", value: Array(body.utf8)),
            (name: "error", value: Array(reason.utf8)),
            (name: "attempts", value: Array("10".utf8)),
            (name: "failed_at", value: Array("1796010362171".utf8)),
        ]))
    }

    static let letters = [
        letter(id: "1796010362171-12", webhookId: "msg_2Lr8ZcXvQz1bYJ7t0gGq9wE3uKs", reason: "document not known after 10 attempts: the Help Desk sent a verdict for a review Docket never requested"),
        letter(id: "1796010362170-0", webhookId: "w1", reason: "permanent:\nstate REQUEST_FAILED"),
    ]

    @Test func idsArePrintedWholeAndOnlyTheReasonIsCutToTheWidth() {
        let table = DeadLetterFormat.table(Self.letters, now: Date(timeIntervalSince1970: 1_796_010_400), width: 140)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.count <= 140 })
        #expect(lines[1].hasPrefix("1796010362171-12 "))
        #expect(lines[1].contains("msg_2Lr8ZcXvQz1bYJ7t0gGq9wE3uKs"))
        #expect(lines[1].contains("doc-msg_2Lr8ZcXvQz1bYJ7t0gGq9wE3uKs"))
        #expect(lines[1].hasSuffix("…"))
        #expect(lines[2].hasPrefix("1796010362170-0  "))
        #expect(lines[2].hasSuffix("permanent: state REQUEST_FAILED"))
    }

    @Test func aNarrowTerminalStillGetsWholeIds() {
        let table = DeadLetterFormat.table(Self.letters, now: Date(timeIntervalSince1970: 1_796_010_400), width: 40)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[1].contains("1796010362171-12"))
        #expect(lines[1].contains("msg_2Lr8ZcXvQz1bYJ7t0gGq9wE3uKs"))
    }

    @Test func withoutATerminalNothingIsCut() {
        let table = DeadLetterFormat.table(Self.letters, now: Date(timeIntervalSince1970: 1_796_010_400), width: nil)
        #expect(table.contains("a review Docket never requested"))
        #expect(!table.contains("…"))
    }

    @Test func progressIsOneUpdatingLineOnATerminalAndNothingElsewhere() {
        var written: [String] = []
        let progress = ProgressLine(verb: "replayed", total: 3, enabled: true) { written.append($0) }
        progress.update(1)
        progress.update(3)
        progress.finish()
        #expect(written.first?.hasPrefix("\rreplayed 1 of 3 (") == true)
        #expect(written.contains { $0.hasPrefix("\rreplayed 3 of 3 (") })
        #expect(written.last == "\n")

        var silent: [String] = []
        let off = ProgressLine(verb: "purged", total: 3, enabled: false) { silent.append($0) }
        off.update(3)
        off.finish()
        #expect(silent.isEmpty)
        #expect(ProgressLine.text(verb: "purged", done: 1200, total: 5000, elapsed: .seconds(2)) == "purged 1200 of 5000 (600/s)")
    }
}
