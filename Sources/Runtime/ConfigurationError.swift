/// A configuration problem found after parsing (e.g. a required secret is missing); `DocketMain` exits 2 on it.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// One line naming what was wrong and what to do.
    public var message: String

    /// Creates an error with a one-line, person-readable message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
