public import ArgumentParser
public import Logging

/// The `--log-level` choices; mirrors `Logger.Level` (which we must not make `ExpressibleByArgument` retroactively).
public enum LogLevel: String, CaseIterable, Sendable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    /// The swift-log level this choice stands for.
    public var level: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
