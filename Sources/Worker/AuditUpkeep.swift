import Foundation
import Logging
import Runtime
import ServiceLifecycle
import Store

/// Keeps the audit trail's partitions made ahead and drops the expired ones (`AuditLog`; docs/architecture.md, "What
/// grows, and its bound"). Every worker runs it, at start and then hourly; the upkeep lock lets one at a time do the
/// work, and each step is idempotent. It has its own Postgres connection, so a `DETACH … CONCURRENTLY` waiting for old
/// transactions never holds up the worker's batches.
struct AuditUpkeep: Service {
    let store: StoreClient
    let audit: AuditLog
    let retention: Duration
    let interval: Duration
    let retryInterval: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    func run() async throws {
        // Cancelled on graceful shutdown: a half-done run is finished by the next one, whoever runs it.
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            let succeeded = await runOnce()
            try? await Task.sleep(for: succeeded ? interval : retryInterval)
        }
    }

    /// One upkeep; false when it failed.
    @discardableResult
    func runOnce() async -> Bool {
        let audit = self.audit
        let retention = self.retention
        do {
            let report = try await store.auditUpkeep(audit, retention: retention)
            if !report.created.isEmpty || !report.dropped.isEmpty {
                logger.info("Audit trail upkeep", metadata: [
                    "created": "\(report.created.joined(separator: ","))",
                    "dropped": "\(report.dropped.joined(separator: ","))",
                ])
            }
            return true
        } catch {
            // Cancelled at shutdown: the upkeep was refused before it started, nothing failed.
            if Task.isCancelled { return false }
            metrics.auditUpkeepFailures.increment()
            logger.warning("Audit trail upkeep failed; will try again", metadata: [
                "error": "\(error)", "retry_in_s": "\(retryInterval.components.seconds)",
            ])
            return false
        }
    }
}
