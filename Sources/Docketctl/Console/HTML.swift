/// A fragment of HTML. Built by interpolation, where every interpolated `String` (or number, or optional) is escaped and
/// only another `HTML` goes in verbatim, so a value from Redis or Postgres cannot become markup by accident.
struct HTML: ExpressibleByStringInterpolation, Sendable {
    private(set) var text: String

    init(stringLiteral value: String) { text = value }

    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    /// Markup the caller vouches for (a literal, or output of this type).
    init(trusted text: String) { self.text = text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity * 2) }

        mutating func appendLiteral(_ literal: String) { text += literal }

        mutating func appendInterpolation(_ html: HTML) { text += html.text }

        mutating func appendInterpolation(_ fragments: [HTML]) {
            for fragment in fragments { text += fragment.text }
        }

        mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }

        mutating func appendInterpolation(_ value: Substring) { text += HTML.escape(String(value)) }

        mutating func appendInterpolation(_ value: Int) { text += String(value) }

        /// Nothing for nil, the escaped text otherwise.
        mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
    }

    /// Escapes the five characters that matter in text and in quoted attribute values.
    static func escape(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// `value` percent-encoded for a query string or a path segment (RFC 3986 unreserved characters kept).
    static func urlComponent(_ value: String) -> String {
        var encoded = ""
        for byte in value.utf8 {
            if unreserved.contains(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return encoded
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    /// A query string (`?a=1&b=2`) of the non-empty values; empty when there are none.
    static func query(_ items: [(String, String?)]) -> String {
        let pairs = items.compactMap { name, value in
            value.flatMap { $0.isEmpty ? nil : urlComponent(name) + "=" + urlComponent($0) }
        }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }
}
