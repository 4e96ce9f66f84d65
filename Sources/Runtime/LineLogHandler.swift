public import Logging

/// A swift-log handler that writes one line per event to stderr, in `Format` (docs/reference.md §6). The handler's
/// state and metadata merging are the same for every format; only the line differs.
public struct LineLogHandler<Format: LogLineFormat>: LogHandler {
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
        let pairs = LogLineFormatter.flatten(
            handler: metadata, provider: metadataProvider, event: event.metadata, error: event.error)
        return Format.line(timestamp: timestamp, level: event.level, label: label, message: event.message.description, pairs: pairs)
    }
}

/// How one log line is written.
public protocol LogLineFormat: Sendable {
    static func line(
        timestamp: String, level: Logger.Level, label: String, message: String, pairs: [(key: String, value: String)]
    ) -> String
}

/// One JSON object per line: `ts` (ISO 8601, ms), `level`, `label`, `msg`, then metadata as string fields.
public enum JSONLines: LogLineFormat {
    public static func line(
        timestamp: String, level: Logger.Level, label: String, message: String, pairs: [(key: String, value: String)]
    ) -> String {
        var output = "{\"ts\":\""
        output.append(timestamp)
        output.append("\",\"level\":")
        output += JSONString.literal(level.rawValue)
        output.append(",\"label\":")
        output += JSONString.literal(label)
        output.append(",\"msg\":")
        output += JSONString.literal(message)
        for pair in pairs {
            output.append(",")
            // Metadata never overwrites the four fixed fields: a colliding key is kept under "meta.".
            let key = reservedKeys.contains(pair.key) ? "meta." + pair.key : pair.key
            output += JSONString.literal(key)
            output.append(":")
            output += JSONString.literal(pair.value)
        }
        output.append("}\n")
        return output
    }

    private static let reservedKeys: Set<String> = ["ts", "level", "label", "msg"]
}

/// `<ts> <level> <label>: <message> key=value …`, values quoted when they hold spaces or `=`, control characters escaped.
public enum TextLines: LogLineFormat {
    public static func line(
        timestamp: String, level: Logger.Level, label: String, message: String, pairs: [(key: String, value: String)]
    ) -> String {
        var output = timestamp + " " + level.rawValue + " " + label + ": "
        output.append(LogLineFormatter.textValue(message, quoteIfNeeded: false))
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

/// The JSON-lines handler (`--log-format json`).
public typealias JSONLogHandler = LineLogHandler<JSONLines>
/// The text handler (`--log-format text`, the default).
public typealias TextLogHandler = LineLogHandler<TextLines>
