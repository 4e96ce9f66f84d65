/// A completed HTTP exchange: any status (4xx/5xx are responses, not errors), the final response's headers, the body.
public struct CurlResponse: Sendable {
    public var status: Int
    /// Headers of the final response only (interim 1xx responses are dropped), in arrival order.
    public var headers: [CurlHeader]
    public var body: [UInt8]

    /// A response value; `CurlClient` builds these, tests and fakes may too.
    public init(status: Int, headers: [CurlHeader], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the first header with this name, compared case-insensitively; nil when absent.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
