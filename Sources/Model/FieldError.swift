/// One problem with one field of a request body, as listed in a 400 problem+json `errors` array.
public struct FieldError: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The JSON field name, or `body` for the body as a whole.
    public var field: String
    /// What is wrong, e.g. `missing`, `must be a string`.
    public var reason: String

    /// Creates a field error.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
