import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing
@testable import HealthEndpoint
import Runtime

final class ReadinessSwitch: Sendable {
    private let ready = Atomic<Bool>(true)
    func set(_ value: Bool) { ready.store(value, ordering: .relaxed) }
    var isReady: Bool { ready.load(ordering: .relaxed) }
}

@Suite struct HealthServerTests {
    @Test func routesAnswerLivenessReadinessAndShutdown() async throws {
        let readiness = ReadinessSwitch()
        let shutdown = ShutdownFlag()
        let router = Router()
        HealthRoutes.add(to: router, registry: PrometheusCollectorRegistry(), readiness: { readiness.isReady }, shutdown: shutdown)
        try await Application(router: router).test(.router) { client in
            for path in ["/livez", "/healthz", "/readyz"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(String(buffer: response.body) == "ok\n")
                }
            }
            readiness.set(false)
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            readiness.set(true)
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            shutdown.begin()
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            // Liveness is unaffected by shutdown: the process is still alive while it drains.
            try await client.execute(uri: "/livez", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func liveServerExportsIncrementedCounter() async throws {
        let registry = MetricsBootstrap.bootstrap()
        #expect(MetricsBootstrap.bootstrap() === registry, "bootstrap is once per process")
        Counter(label: "runtime_tests_deliveries_total", dimensions: [("outcome", "ok")]).increment(by: 3)
        let server = HealthServer(port: 1, registry: registry, shutdown: ShutdownFlag(), logger: Logger(label: "test"))
        // `.live` binds the same application to an ephemeral port.
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/livez", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                let body = String(buffer: response.body)
                #expect(body.contains("runtime_tests_deliveries_total{outcome=\"ok\"} 3"), "\(body)")
            }
        }
    }

    @Test func disabledServerWaitsForGracefulShutdownAndSetsTheFlag() async throws {
        let shutdown = ShutdownFlag()
        let server = HealthServer(port: 0, registry: PrometheusCollectorRegistry(), shutdown: shutdown, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(50))
            #expect(!shutdown.isShuttingDown)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(shutdown.isShuttingDown)
    }
}
