/// Why a request produced no response: the transport failed, timed out, or the client was shut down.
public struct CurlError: Error, CustomStringConvertible {
    /// What kind of failure, coarse enough for retry decisions.
    public enum Code: Sendable, Hashable {
        /// The connect or total timeout fired (CURLE_OPERATION_TIMEDOUT).
        case timeout
        /// Nothing accepted the connection (CURLE_COULDNT_CONNECT).
        case connect
        /// The host name did not resolve (CURLE_COULDNT_RESOLVE_HOST).
        case resolve
        /// Anything else: TLS, protocol, bad URL, or the client was shut down (`curlCode` -1).
        case other
    }

    public var code: Code
    /// libcurl's CURLcode, or -1 when the failure is the client's own (shut down, invalid request).
    public var curlCode: Int
    public var message: String

    /// An error with an explicit code.
    public init(code: Code, curlCode: Int, message: String) {
        self.code = code
        self.curlCode = curlCode
        self.message = message
    }

    /// Maps a libcurl result code to our coarse code.
    init(curlCode: Int, message: String) {
        let code: Code
        switch curlCode {
        case Self.curleOperationTimedOut: code = .timeout
        case Self.curleCouldntConnect: code = .connect
        case Self.curleCouldntResolveHost: code = .resolve
        default: code = .other
        }
        self.init(code: code, curlCode: curlCode, message: message)
    }

    /// A failure that happened before or outside libcurl (curlCode -1).
    static func client(_ message: String) -> CurlError {
        CurlError(code: .other, curlCode: -1, message: message)
    }

    // CURLcode values are ABI-stable numbers; naming them here keeps the mapping testable without CCurl.
    static let curleCouldntResolveHost = 6
    static let curleCouldntConnect = 7
    static let curleOperationTimedOut = 28

    public var description: String {
        "curl error \(curlCode) (\(code)): \(message)"
    }
}
