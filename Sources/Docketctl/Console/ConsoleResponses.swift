import Foundation
import Hummingbird

/// How the console answers: every page with the same security headers, never a stack trace.
enum ConsoleResponses {
    /// Scripts and styles from this origin only, no framing, no referrer (a login URL carries the token).
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        // Constant, valid field names: the unwraps cannot fail.
        .init("X-Frame-Options")!: "DENY",
        .xContentTypeOptions: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    static func now() -> Int { Int(Date().timeIntervalSince1970) }

    static func html(_ html: HTML, status: HTTPResponse.Status = .ok, fragment: Bool = false) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html.text)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = securityHeaders
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// 401 without data: JSON for `/api/…` and bearer clients, the login form for browsers.
    static func unauthorized(_ request: Request, message: String?) -> Response {
        if request.uri.path.hasPrefix("/api/") || request.headers[.authorization] != nil {
            var response = json(["error": message ?? "authentication required: Authorization: Bearer <token>"], status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return html(ConsolePages.loginForm(message: message.map { $0 == "wrong token" ? "Wrong token." : $0 }), status: .unauthorized)
    }

    static func forbidden(_ frame: ConsolePages.Frame) -> Response {
        html(ConsolePages.problem(
            "Refused", "This form expired or did not come from this console (its CSRF token is missing or wrong); nothing was changed. Reload the page and try again.",
            frame), status: .forbidden)
    }

    static func unavailable(_ service: String, _ error: any Error, _ frame: ConsolePages.Frame) -> Response {
        html(ConsolePages.problem("\(service) unavailable", "\(service) unavailable: \(ConsolePages.describe(error)). The console retries on the next request.", frame),
             status: .serviceUnavailable)
    }
}

/// A posted `application/x-www-form-urlencoded` body; names may repeat (`ids`).
struct FormData {
    var pairs: [(name: String, value: String)]

    init(_ request: Request, context: ConsoleContext) async throws {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        self.init(String(buffer: body))
    }

    /// The query string, decoded as a form (a GET form writes spaces as `+`, which URI decoding alone keeps).
    init(query request: Request) {
        self.init(request.uri.query ?? "")
    }

    init(_ text: String) {
        pairs = text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    func first(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// "Failed since": an ISO 8601 time (UTC when no zone is given), a date, or an age back from now (`90m`, `2h`, `3d`).
enum SinceArgument {
    static func parse(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // An age: finite, and at most about a century (no overflow when it becomes milliseconds).
        if let unit = trimmed.last, let amount = Double(trimmed.dropLast()), amount.isFinite, amount >= 0, amount <= 36_500 * 86_400 {
            let seconds: Double? = switch unit {
            case "s": amount
            case "m": amount * 60
            case "h": amount * 3_600
            case "d": amount * 86_400
            default: nil
            }
            if let seconds, seconds <= 36_500 * 86_400 { return now.addingTimeInterval(-seconds) }
        }
        for format in ["yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mmXXXXX", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }
}
