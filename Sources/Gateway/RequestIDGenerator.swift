/// Makes `X-Request-ID` values for one event loop: a random per-process prefix and a counter, unique without a syscall
/// or a shared atomic per request. Loop `i` of `n` hands out `i, i+n, i+2n, …`, so loops never collide.
struct RequestIDGenerator {
    private let prefix: String
    private var next: UInt64
    private let step: UInt64

    /// `processPrefix` is shared by every loop of the process (see `makeProcessPrefix`).
    init(processPrefix: String, loopIndex: Int, loopCount: Int) {
        prefix = processPrefix
        next = UInt64(loopIndex) + 1
        step = UInt64(max(1, loopCount))
    }

    /// Eight random hex digits and a dash.
    static func makeProcessPrefix() -> String {
        var random = SystemRandomNumberGenerator()
        let hex = String(UInt32.random(in: .min ... .max, using: &random), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex + "-"
    }

    /// The next id, e.g. `3f9a01c2-1b`.
    mutating func make() -> String {
        defer { next &+= step }
        return prefix + String(next, radix: 16)
    }

    /// Whether a proxy-supplied id is safe to echo and log: 1–128 visible ASCII characters.
    static func isAcceptable(_ id: String) -> Bool {
        let utf8 = id.utf8
        return !utf8.isEmpty && utf8.count <= 128 && utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
