public import Hummingbird
import HTTPTypes
public import Prometheus
public import Runtime

/// The liveness, readiness and metrics routes, for `HealthServer` and for apps that mount them on their own router.
public enum HealthRoutes {
    /// Adds `GET /livez`, `/healthz` (200 "ok"), `/readyz` (200 when `readiness` says so and shutdown has not begun, else 503)
    /// and `/metrics` (Prometheus text) to `router`.
    public static func add<Context: RequestContext>(
        to router: Router<Context>,
        registry: PrometheusCollectorRegistry,
        readiness: @escaping @Sendable () async -> Bool,
        shutdown: ShutdownFlag
    ) {
        router.get("/livez") { _, _ in text(.ok, "ok\n") }
        router.get("/healthz") { _, _ in text(.ok, "ok\n") }
        router.get("/readyz") { _, _ in
            // Checked first so a load balancer stops routing here the moment shutdown begins, whatever the probe says.
            if shutdown.isShuttingDown {
                return text(.serviceUnavailable, "shutting down\n")
            }
            return await readiness() ? text(.ok, "ok\n") : text(.serviceUnavailable, "not ready\n")
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: MetricsBootstrap.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: MetricsBootstrap.exposition(of: registry)))
            )
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
