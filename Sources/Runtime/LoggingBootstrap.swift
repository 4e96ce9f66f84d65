public import Logging
import Synchronization

/// Installs Docket's log handler as the process-wide swift-log backend, once per process.
public enum LoggingBootstrap {
    /// swift-log traps on a second `LoggingSystem.bootstrap`, so we remember whether it happened.
    private static let bootstrapped = Mutex(false)

    /// Bootstraps logging with `format` and `level` (later calls keep the first configuration) and returns a logger for `label`.
    @discardableResult
    public static func bootstrap(format: LogFormat, level: Logger.Level, label: String) -> Logger {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { (label: String) -> any LogHandler in
                switch format {
                case .json: JSONLogHandler(label: label, logLevel: level)
                case .text: TextLogHandler(label: label, logLevel: level)
                }
            }
        }
        return Logger(label: label)
    }
}
