import Crypto
import Foundation
import Synchronization

/// Who may use the console and how a browser proves it (docs/reference.md §13). One secret token; a browser trades it
/// for a signed session cookie, scripts send it as `Authorization: Bearer`. The signing key is random per process, so a
/// restart ends every session; the only state is the set of sessions logged out before they expired.
final class ConsoleAuth: Sendable {
    static let cookieName = "docket_console"
    /// How long a browser session lasts.
    static let sessionLifetime = 12 * 3_600

    let token: String
    /// Random per process; kept as bytes because `SymmetricKey` is not Sendable.
    private let key: [UInt8] = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
    private let loggedOut = Mutex<[String: Int]>([:])

    init(token: String) {
        self.token = token
    }

    /// A token for when the operator set none: 32 random bytes, hex.
    static func generateToken() -> String {
        hex((0..<32).map { _ in UInt8.random(in: .min ... .max) })
    }

    func tokenMatches(_ candidate: String) -> Bool {
        same(candidate, token)
    }

    func newSession(now: Int) -> ConsoleSession {
        ConsoleSession(id: Self.hex((0..<16).map { _ in UInt8.random(in: .min ... .max) }), expires: now + Self.sessionLifetime)
    }

    /// `<id>.<expires>.<mac>`: only this process could have made it.
    func cookieValue(for session: ConsoleSession) -> String {
        let payload = "\(session.id).\(session.expires)"
        return payload + "." + mac("session:" + payload)
    }

    /// The session a cookie proves, or nil when it is forged, expired or logged out.
    func session(fromCookie value: String, now: Int) -> ConsoleSession? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expires = Int(parts[1]), expires > now else { return nil }
        guard same(String(parts[2]), mac("session:\(parts[0]).\(parts[1])")) else { return nil }
        let id = String(parts[0])
        guard loggedOut.withLock({ $0[id] == nil }) else { return nil }
        return ConsoleSession(id: id, expires: expires)
    }

    /// The form token that proves a POST came from a page this console served to this session.
    func csrfToken(for session: ConsoleSession) -> String {
        mac("csrf:" + session.id)
    }

    func csrfMatches(_ candidate: String?, for session: ConsoleSession) -> Bool {
        guard let candidate else { return false }
        return same(candidate, csrfToken(for: session))
    }

    /// Ends a session before it expires; forgotten once it would have expired anyway.
    func logOut(_ session: ConsoleSession, now: Int) {
        loggedOut.withLock { ended in
            ended = ended.filter { $0.value > now }
            ended[session.id] = session.expires
        }
    }

    /// Compares the MACs of two secrets rather than the secrets, so the time taken says nothing about how much of a
    /// guess was right.
    private func same(_ candidate: String, _ secret: String) -> Bool {
        mac("compare:" + candidate) == mac("compare:" + secret)
    }

    private func mac(_ message: String) -> String {
        Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key))))
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A logged-in browser, or a script using the bearer token (`id` "bearer").
struct ConsoleSession: Sendable, Hashable {
    var id: String
    /// Unix seconds.
    var expires: Int

    static let bearer = ConsoleSession(id: "bearer", expires: .max)

    var isBearer: Bool { id == "bearer" }

    /// How logs name it: enough to tell sessions apart, too little to forge one.
    var label: String { isBearer ? "bearer" : "session-" + id.prefix(8) }
}
