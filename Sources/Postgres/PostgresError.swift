import Foundation

/// An error from the Postgres client: a failed connection, a server error with its SQLSTATE, or an undecodable value.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public enum Code: Sendable, Hashable {
        /// Could not connect, or the connection broke; reconnecting may help.
        case connection
        /// The server answered with an error; `sqlState` says which.
        case server
        /// libpq or the server did something the client does not understand or support.
        case `protocol`
        /// A value could not be encoded as a parameter or decoded from a row.
        case decoding
    }

    /// What kind of failure this is.
    public var code: Code
    /// The five-character SQLSTATE when the server sent one (e.g. "23505" for a unique violation).
    public var sqlState: String?
    /// The primary message, from the server or libpq; never contains a password.
    public var message: String
    /// The server's detail line, when it sent one.
    public var detail: String?
    /// The table the error is about, when the server named one (PG_DIAG_TABLE_NAME): unlike the message, never translated.
    public var table: String?

    /// Creates an error; `message` and `detail` are redacted of URL passwords.
    public init(code: Code, sqlState: String? = nil, message: String, detail: String? = nil, table: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = Self.redactingSecrets(message)
        self.detail = detail.map(Self.redactingSecrets)
        self.table = table
    }

    /// True when the connection is unusable: the client should reconnect (SQLSTATE class 08, admin shutdown 57P0x).
    public var isConnectionError: Bool {
        if code == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// True for serialization failures, deadlocks and lock-not-available: the transaction may succeed if retried.
    public var isRetryableConflict: Bool {
        guard let sqlState else { return false }
        return ["40001", "40P01", "55P03"].contains(sqlState)
    }

    public var description: String {
        var text = "Postgres \(code) error"
        if let sqlState { text += " \(sqlState)" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        return Self.redactingSecrets(text)
    }

    /// Replaces passwords in connection URLs (`scheme://user:SECRET@host`) and `password=SECRET` pairs with `***`.
    public static func redactingSecrets(_ text: String) -> String {
        redactingKeywordPasswords(redactingURLPasswords(text))
    }

    private static func redactingURLPasswords(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            // The userinfo ends at the last "@" before the path, query or whitespace; a password may itself hold "@" or ":".
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0.isWhitespace || $0 == "\"" || $0 == "'" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon]
                result += "***"
                result += authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        result += rest
        return result
    }

    private static func redactingKeywordPasswords(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let key = rest.range(of: "password=", options: .caseInsensitive) {
            result += rest[..<key.upperBound]
            rest = rest[key.upperBound...]
            let valueEnd = rest.firstIndex { $0 == "&" || $0.isWhitespace || $0 == "#" } ?? rest.endIndex
            result += "***"
            rest = rest[valueEnd...]
        }
        result += rest
        return result
    }
}
