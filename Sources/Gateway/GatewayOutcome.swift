/// How the gateway answered one request; `label` is the `outcome` label of `docket_gateway_requests_total`.
enum GatewayOutcome: Int, Sendable, CaseIterable {
    case accepted
    case duplicate
    case unauthorized
    case invalidPayload
    case tooLarge
    case unsupportedMediaType
    case notFound
    case methodNotAllowed
    case overBacklog
    case redisUnavailable
    /// Enqueued, but fewer than `DOCKET_REDIS_MIN_REPLICAS` replicas acknowledged it in time (503).
    case replicasUnavailable
    /// Not parseable as HTTP/1.1 (400, then the connection closes).
    case malformedRequest
    /// Health, readiness and metrics requests.
    case probe

    var label: String {
        switch self {
        case .accepted: "accepted"
        case .duplicate: "duplicate"
        case .unauthorized: "unauthorized"
        case .invalidPayload: "invalid_payload"
        case .tooLarge: "too_large"
        case .unsupportedMediaType: "unsupported_media_type"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .overBacklog: "over_backlog"
        case .redisUnavailable: "redis_unavailable"
        case .replicasUnavailable: "replicas_unavailable"
        case .malformedRequest: "malformed_request"
        case .probe: "probe"
        }
    }
}
