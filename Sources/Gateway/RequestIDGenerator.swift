import Synchronization

/// Makes `X-Request-ID` values: a random per-process prefix and a counter, unique without a syscall per request.
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        var random = SystemRandomNumberGenerator()
        let value = UInt32.random(in: .min ... .max, using: &random)
        let hex = String(value, radix: 16)
        prefix = String(repeating: "0", count: 8 - hex.count) + hex + "-"
    }

    /// The next id, e.g. `3f9a01c2-1b`.
    func next() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + String(n, radix: 16)
    }

    /// Whether a proxy-supplied id is safe to echo and log: 1–128 visible ASCII characters.
    static func isAcceptable(_ id: String) -> Bool {
        let utf8 = id.utf8
        return !utf8.isEmpty && utf8.count <= 128 && utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
