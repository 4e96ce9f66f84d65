private import CCurl

/// libcurl's process-wide initialisation, which is not thread-safe and must happen once before any handle exists.
enum CurlGlobal {
    /// Swift runs a global's initialiser exactly once, thread-safely: that is the "once" libcurl needs.
    static let initResult: Int = Int(docket_curl_global_init_default().rawValue)

    /// Runs curl_global_init on first use; nil when it succeeded, otherwise why it failed.
    static func ensureInitialized() -> CurlError? {
        let code = initResult
        guard code != 0 else { return nil }
        return CurlError(curlCode: code, message: "curl_global_init failed")
    }
}
