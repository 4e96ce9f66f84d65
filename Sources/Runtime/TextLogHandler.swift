public import Logging

/// Writes compact one-line text to stderr: `2025-05-01T12:00:00.123Z info docket-worker: message key=value`.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level

    private let label: String
    private let sink: @Sendable (String) -> Void

    /// Creates a handler for `label` writing to stderr.
    public init(label: String, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(label: label, logLevel: logLevel, metadataProvider: metadataProvider, sink: StandardError.write)
    }

    init(
        label: String,
        logLevel: Logger.Level,
        metadataProvider: Logger.MetadataProvider?,
        sink: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        sink(line(for: event, timestamp: LogLineFormatter.timestamp()))
    }

    func line(for event: LogEvent, timestamp: String) -> String {
        var output = timestamp + " " + event.level.rawValue + " " + label + ": "
        output.append(LogLineFormatter.textValue(event.message.description, quoteIfNeeded: false))
        let pairs = LogLineFormatter.flatten(
            handler: metadata,
            provider: metadataProvider,
            event: event.metadata,
            error: event.error
        )
        for pair in pairs {
            output.append(" ")
            output.append(pair.key)
            output.append("=")
            output.append(LogLineFormatter.textValue(pair.value, quoteIfNeeded: true))
        }
        output.append("\n")
        return output
    }
}
