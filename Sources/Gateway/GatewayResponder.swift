import HTTPTypes
import Hummingbird
import Logging

/// Routes every request: `POST /document/update` to the intake, the probe routes to Runtime's health router, and
/// everything else to a problem+json 404 or 405 with `Allow`. Every answer carries `X-Request-ID`.
struct GatewayResponder<HealthResponder: HTTPResponder>: HTTPResponder where HealthResponder.Context == GatewayRequestContext {
    typealias Context = GatewayRequestContext

    let intake: WebhookIntake
    let health: HealthResponder
    let proxies: TrustedProxies
    let requestIDs: RequestIDGenerator
    let metrics: GatewayMetrics
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = self.requestID(for: request, context: context)
        var headers = HTTPFields()
        headers[.requestID] = requestID
        let path = request.uri.path
        let (response, outcome) = try await route(request, path: path, context: context, headers: headers, requestID: requestID)
        metrics.count(outcome)
        if outcome != .probe {
            logger.debug("Request answered", metadata: [
                "request_id": "\(requestID)",
                "client": "\(clientAddress(request, context) ?? "-")",
                "method": "\(request.method.rawValue)",
                "path": "\(path)",
                "status": "\(response.status.code)",
                "outcome": "\(outcome.label)",
            ])
        }
        return response
    }

    private func route(
        _ request: Request, path: String, context: Context, headers: HTTPFields, requestID: String
    ) async throws -> (Response, GatewayOutcome) {
        switch path {
        case "/document/update":
            guard request.method == .post else {
                return (methodNotAllowed(request, allowed: "POST", headers: headers), .methodNotAllowed)
            }
            return try await intake.handle(request, headers: headers, requestID: requestID)
        case "/livez", "/healthz", "/readyz", "/metrics":
            guard request.method == .get else {
                return (methodNotAllowed(request, allowed: "GET", headers: headers), .methodNotAllowed)
            }
            var response = try await health.respond(to: request, context: context)
            response.headers[.requestID] = requestID
            return (response, .probe)
        default:
            return (Problem.notFound(path: path).response(headers: headers), .notFound)
        }
    }

    private func methodNotAllowed(_ request: Request, allowed: String, headers: HTTPFields) -> Response {
        var fields = headers
        fields[.allow] = allowed
        return Problem.methodNotAllowed(method: request.method.rawValue, allowed: allowed).response(headers: fields)
    }

    /// A trusted proxy's `X-Request-ID` when it is sane, otherwise a fresh one.
    func requestID(for request: Request, context: Context) -> String {
        if let supplied = request.headers[.requestID], RequestIDGenerator.isAcceptable(supplied),
           proxies.isTrusted(context.peerAddress) {
            return supplied
        }
        return requestIDs.next()
    }

    /// The client as far as trusted proxies let us see (for logs only).
    func clientAddress(_ request: Request, _ context: Context) -> String? {
        proxies.clientAddress(
            peer: context.peerAddress,
            forwardedFor: request.headers[.xForwardedFor],
            forwarded: request.headers[.forwarded]
        )
    }
}
