import Foundation
import Queue

/// How dead letters look to an operator: an 80-column table, the documented JSON, and a full detail view.
enum DeadLetterFormat {
    /// `--json`: exactly the shape docs/reference.md §12 documents.
    struct ListItem: Encodable {
        var id: String
        var webhookId: String?
        var error: String
        var attempts: Int
        var failedAt: String
    }

    static func jsonList(_ letters: [DeadLetter]) -> String {
        let items = letters.map {
            ListItem(id: $0.id, webhookId: $0.webhookId, error: $0.error, attempts: $0.attempts,
                     failedAt: iso8601($0.failedAtMilliseconds))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(items) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    static func table(_ letters: [DeadLetter], now: Date) -> String {
        // Widths sum to 80 with the separating spaces; the reason takes what is left.
        let columns: [(title: String, width: Int)] = [
            ("ID", 15), ("WEBHOOK", 14), ("DOCUMENT", 12), ("ATT", 3), ("FAILED", 8), ("REASON", 23),
        ]
        var lines = [row(columns.map(\.title), columns.map(\.width))]
        for letter in letters {
            let cells = [
                letter.id, letter.webhookId ?? "-", documentId(letter) ?? "-", String(letter.attempts),
                relative(letter.failedAtMilliseconds, now: now), letter.error,
            ]
            lines.append(row(cells, columns.map(\.width)))
        }
        return lines.joined(separator: "\n")
    }

    static func detail(_ letter: DeadLetter) -> String {
        var lines = [
            "id:          \(letter.id)",
            "webhook id:  \(letter.webhookId ?? "-")",
            "document id: \(documentId(letter) ?? "-")",
            "error:       \(letter.error)",
            "attempts:    \(letter.attempts)",
            "failed at:   \(iso8601(letter.failedAtMilliseconds))",
            "consumer:    \(letter.consumer ?? "-")",
        ]
        for field in letter.entry.fields where !["webhook_id", "error", "attempts", "failed_at", "consumer", "body"].contains(field.name) {
            let name = (field.name + ":").padding(toLength: 13, withPad: " ", startingAt: 0)
            lines.append("\(name)\(String(decoding: field.value, as: UTF8.self))")
        }
        lines.append("body:")
        lines.append(prettyBody(letter.body ?? []))
        return lines.joined(separator: "\n")
    }

    static func documentId(_ letter: DeadLetter) -> String? {
        guard let body = letter.body,
              let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        else { return nil }
        return object["documentId"] as? String
    }

    /// The body indented when it is JSON, verbatim otherwise (an undecodable body is often why it is dead).
    static func prettyBody(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed]) {
            return String(decoding: pretty, as: UTF8.self)
        }
        return String(decoding: body, as: UTF8.self)
    }

    static func iso8601(_ milliseconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func relative(_ milliseconds: Int, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince1970) - milliseconds / 1000)
        switch seconds {
        case ..<60: return "\(seconds)s ago"
        case ..<3600: return "\(seconds / 60)m ago"
        case ..<86400: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86400)d ago"
        }
    }

    private static func row(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).map { fit($0, $1) }.joined(separator: " ").trimmingTrailingSpaces()
    }

    /// Pads or cuts to exactly `width` characters; a cut ends in an ellipsis. Control characters become spaces.
    static func fit(_ text: String, _ width: Int) -> String {
        let clean = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        if clean.count <= width { return clean.padding(toLength: width, withPad: " ", startingAt: 0) }
        return String(clean.prefix(width - 1)) + "…"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
