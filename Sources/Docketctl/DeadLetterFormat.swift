import Foundation
import Model
import Queue

/// How dead letters look to an operator: a table as wide as the terminal, the documented JSON, and a full detail view.
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

    /// The list as a table. Ids, webhook ids and document ids are always printed whole, so they can be copied into
    /// `dead show` or `dead replay`; only the reason is shortened, to fit `width` columns (nil: never shortened).
    static func table(_ letters: [DeadLetter], now: Date, width: Int?) -> String {
        let titles = ["ID", "WEBHOOK", "DOCUMENT", "ATT", "FAILED", "REASON"]
        let rows = letters.map { letter in
            [
                letter.id, letter.webhookId ?? "-", documentId(letter) ?? "-", String(letter.attempts),
                relative(letter.failedAtMilliseconds, now: now), clean(letter.error),
            ]
        }
        var widths = titles.indices.map { column in
            ([titles] + rows).map { clean($0[column]).count }.max() ?? 0
        }
        if let width {
            // What the other columns and the separating spaces leave; never less than a readable stub.
            let others = widths.dropLast().reduce(0, +) + widths.count - 1
            widths[widths.count - 1] = min(widths[widths.count - 1], max(12, width - others))
        }
        var lines = [row(titles, widths)]
        for cells in rows { lines.append(row(cells, widths)) }
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
        let shownAbove = Set(DeadLetter.Field.allCases.map(\.rawValue) + [EventEnvelope.Field.webhookId.rawValue, EventEnvelope.Field.body.rawValue])
        for field in letter.entry.fields where !shownAbove.contains(field.name) {
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

    /// Pads or cuts to exactly `width` characters; a cut ends in an ellipsis.
    static func fit(_ text: String, _ width: Int) -> String {
        let clean = clean(text)
        if clean.count <= width { return clean.padding(toLength: width, withPad: " ", startingAt: 0) }
        return String(clean.prefix(width - 1)) + "…"
    }

    /// One line: newlines and tabs become spaces.
    static func clean(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
