private import CCurl

/// Owns one libcurl multi handle (CURLM*).
///
/// `@unchecked Sendable` is safe because of how `CurlMulti` uses it: every curl_multi_* call except
/// `curl_multi_wakeup` happens on the confined thread that drives the handle, and libcurl documents
/// `curl_multi_wakeup` as callable from any thread. Other threads call `wakeup()` only through `ConfinedThread`'s
/// `wake` and cancel hooks, which run under its lock and only before shutdown; the driving thread calls `cleanup()`
/// only after `take()` answered nil, having seen the shutdown under that same lock, so no wakeup can race with (or
/// follow) the cleanup.
final class CurlMultiHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    /// Nil when libcurl cannot allocate a multi handle.
    init?(maxConnections: Int) {
        guard let raw = curl_multi_init() else { return nil }
        self.raw = raw
        // Beyond this many connections libcurl queues transfers itself until a connection frees up.
        _ = docket_curl_multi_setopt_long(raw, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, maxConnections))
    }

    /// Interrupts a `curl_multi_poll` in progress (or makes the next one return at once); any thread.
    func wakeup() {
        _ = curl_multi_wakeup(raw)
    }

    /// Frees the handle; the driving thread only, once, after every easy handle has been removed.
    func cleanup() {
        _ = curl_multi_cleanup(raw)
    }
}
