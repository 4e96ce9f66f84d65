/// Why a stream entry could not be read as an `EventEnvelope`; names the field at fault.
public struct EnvelopeError: Error, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: Sendable, Hashable {
        /// A required field is absent.
        case missingField
        /// A field is present but its value is not of the required form.
        case invalidField
    }

    /// The kind of problem.
    public var code: Code
    /// The stream field name, e.g. `received_at`.
    public var field: String

    /// Creates an error for `field`.
    public init(code: Code, field: String) {
        self.code = code
        self.field = field
    }

    public var description: String {
        switch code {
        case .missingField: "event entry has no \(field) field"
        case .invalidField: "event entry has an invalid \(field) field"
        }
    }
}
