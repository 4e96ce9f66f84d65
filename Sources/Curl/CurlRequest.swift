/// An HTTP request for `CurlClient.perform(_:)`: method, URL, headers, optional body and its time limits.
public struct CurlRequest: Sendable {
    /// The HTTP method, sent as given ("GET", "POST", "PUT", ...).
    public var method: String
    /// An absolute http:// or https:// URL; other schemes are refused.
    public var url: String
    public var headers: [CurlHeader]
    /// The request body, sent with a Content-Length; nil sends none.
    public var body: [UInt8]?
    /// How long to wait for the TCP (and TLS) connection.
    public var connectTimeout: Duration
    /// How long the whole transfer may take, connection included.
    public var timeout: Duration

    /// A request with the contract's defaults: GET, no body, 5 s to connect, 30 s in all.
    public init(
        method: String = "GET",
        url: String,
        headers: [CurlHeader] = [],
        body: [UInt8]? = nil,
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}
