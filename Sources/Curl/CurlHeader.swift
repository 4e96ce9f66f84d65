/// One HTTP header field, as sent or as received.
public struct CurlHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    /// A header field; names compare case-insensitively only where lookups say so.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
