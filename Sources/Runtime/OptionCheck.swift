public import ArgumentParser

/// The checks commands make on their options, each worded once (docs/reference.md §3): `--flag (VARIABLE) must be …,
/// got …`, one line that ArgumentParser prints as a usage error.
public struct OptionCheck: Sendable {
    /// How the option is named in messages: the flag, and its variable when it has one.
    public let name: String

    public init(_ flag: String, variable: String? = nil) {
        name = variable.map { "\(flag) (\($0))" } ?? flag
    }

    /// At least `minimum`.
    public func atLeast(_ minimum: Int, _ value: Int) throws(ValidationError) {
        guard value >= minimum else { throw ValidationError("\(name) must be at least \(minimum), got \(value)") }
    }

    /// Within `range`.
    public func within(_ range: ClosedRange<Int>, _ value: Int) throws(ValidationError) {
        guard range.contains(value) else {
            throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    /// A TCP port, 0 meaning "any" or "off" as the option says.
    public func port(_ value: Int) throws(ValidationError) {
        try within(0...65_535, value)
    }

    /// A fraction between 0 and 1.
    public func fraction(_ value: Double) throws(ValidationError) {
        guard (0...1).contains(value) else { throw ValidationError("\(name) must be between 0 and 1, got \(value)") }
    }
}
