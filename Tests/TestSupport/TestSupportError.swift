/// Why a test helper could not start, run or wait for something; the message says what to check.
public struct TestSupportError: Error, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
        case binaryNotFound
        case commandFailed
        case launchFailed
        case timeout
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "TestSupportError.\(code): \(message)" }
}
