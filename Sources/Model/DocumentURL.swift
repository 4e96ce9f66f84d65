import Foundation

/// Checks a document URL before it is queued for review (`docketctl submit`).
public struct DocumentURL: Sendable {
    /// Longest accepted URL, in characters.
    public static let maxLength = 2048

    /// Nil when `s` is an acceptable document URL, otherwise the reason it is not.
    public static func validate(_ s: String) -> String? {
        if s.isEmpty { return "must not be empty" }
        if s.count > maxLength { return "must be at most \(maxLength) characters" }
        if s.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            return "must not contain whitespace or control characters"
        }
        guard let components = URLComponents(string: s) else { return "is not a valid URL" }
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "must be an http or https URL"
        }
        guard let host = components.host, !host.isEmpty else { return "must have a host" }
        return nil
    }
}
