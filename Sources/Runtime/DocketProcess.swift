public import Logging
public import ServiceLifecycle
import UnixSignals

/// Runs a process's services until SIGTERM/SIGINT: the first signal shuts down gracefully, a second one (or the timeout) cancels.
public enum DocketProcess {
    /// Runs `services` in a `ServiceGroup` (shut down in reverse order, so list the health server first to keep it up while
    /// the others drain). The first SIGTERM/SIGINT sets `shutdown` (so `/readyz` turns 503) and starts graceful shutdown;
    /// graceful shutdown longer than `gracefulShutdownTimeout`, or a second signal, cancels the services instead.
    /// Returns after a clean shutdown; throws when a service fails or stops early, or after a second signal.
    public static func run(
        services: [any Service],
        logger: Logger,
        shutdown: ShutdownFlag = ShutdownFlag(),
        gracefulShutdownTimeout: Duration = .seconds(30)
    ) async throws {
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = gracefulShutdownTimeout
        let group = ServiceGroup(configuration: configuration)
        // ServiceGroup ignores a repeated graceful signal and cannot use one signal for both purposes, so we trap them ourselves.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)

        try await withThrowingTaskGroup(of: Ending.self) { tasks in
            tasks.addTask {
                do {
                    try await group.run()
                } catch is CancellationError where shutdown.isShuttingDown {
                    // The group escalated to cancellation because draining outlived the timeout.
                    throw ProcessInterrupted(
                        description: "graceful shutdown did not finish within \(gracefulShutdownTimeout); in-flight work was cancelled"
                    )
                }
                return .servicesFinished
            }
            tasks.addTask {
                var received = 0
                for await signal in signals {
                    received += 1
                    if received == 1 {
                        logger.info("Shutting down gracefully", metadata: ["signal": "\(signal)"])
                        shutdown.begin()
                        await group.triggerGracefulShutdown()
                    } else {
                        logger.warning("Second signal: cancelling in-flight work", metadata: ["signal": "\(signal)"])
                        throw ProcessInterrupted(
                            description: "stopped by a second \(signal) before graceful shutdown finished"
                        )
                    }
                }
                return .signalsFinished
            }
            while let ending = try await tasks.next() {
                if case .servicesFinished = ending {
                    tasks.cancelAll()
                    return
                }
            }
        }
    }

    private enum Ending: Sendable {
        case servicesFinished
        case signalsFinished
    }
}

/// Thrown by `DocketProcess.run` when a second signal or the timeout cut graceful shutdown short.
public struct ProcessInterrupted: Error, CustomStringConvertible, Sendable {
    /// What cut the shutdown short, as one line.
    public var description: String
}
