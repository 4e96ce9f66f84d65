public import Logging

/// Writes one JSON object per line to stderr: `ts` (ISO 8601, ms), `level`, `label`, `msg`, then metadata as string fields.
public struct JSONLogHandler: LogHandler {
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
        var output = "{\"ts\":\""
        output.append(timestamp)
        output.append("\",\"level\":")
        output += JSONString.literal(event.level.rawValue)
        output.append(",\"label\":")
        output += JSONString.literal(label)
        output.append(",\"msg\":")
        output += JSONString.literal(event.message.description)
        let pairs = LogLineFormatter.flatten(
            handler: metadata,
            provider: metadataProvider,
            event: event.metadata,
            error: event.error
        )
        for pair in pairs {
            output.append(",")
            // Metadata never overwrites the four fixed fields: a colliding key is kept under "meta.".
            let key = Self.reservedKeys.contains(pair.key) ? "meta." + pair.key : pair.key
            output += JSONString.literal(key)
            output.append(":")
            output += JSONString.literal(pair.value)
        }
        output.append("}\n")
        return output
    }

    private static let reservedKeys: Set<String> = ["ts", "level", "label", "msg"]
}
