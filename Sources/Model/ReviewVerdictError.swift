/// Every problem found in a verdict webhook's body (all fields are checked, not just the first bad one).
public struct ReviewVerdictError: Error, Hashable, CustomStringConvertible {
    /// The problems, in field order; a body that is not a JSON object gives one error for field `body`.
    public var errors: [FieldError]

    /// Creates an error listing `errors`.
    public init(errors: [FieldError]) {
        self.errors = errors
    }

    public var description: String {
        "invalid review verdict: " + errors.map(\.description).joined(separator: "; ")
    }
}
