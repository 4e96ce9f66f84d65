#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Pieces shared by the JSON and text log handlers: timestamps, metadata flattening, escaping.
enum LogLineFormatter {
    /// Now as ISO 8601 UTC with milliseconds, e.g. `2025-05-01T12:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec) / 1_000_000)
    }

    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(milliseconds, 3) + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Handler, provider and event metadata merged (later wins) and flattened to sorted `key: string` pairs;
    /// nested dictionaries become dotted keys so log pipelines see flat string fields.
    static func flatten(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        event: Logger.Metadata?,
        error: (any Error)?
    ) -> [(key: String, value: String)] {
        var merged = handler
        if let provided = provider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let event {
            merged.merge(event) { _, new in new }
        }
        var pairs: [(key: String, value: String)] = []
        for key in merged.keys.sorted() {
            if let value = merged[key] {
                append(value, key: key, to: &pairs)
            }
        }
        if let error, merged["error"] == nil {
            pairs.append((key: "error", value: String(describing: error)))
        }
        return pairs
    }

    private static func append(_ value: Logger.MetadataValue, key: String, to pairs: inout [(key: String, value: String)]) {
        switch value {
        case .string(let text):
            pairs.append((key: key, value: text))
        case .stringConvertible(let convertible):
            pairs.append((key: key, value: convertible.description))
        case .dictionary(let dictionary):
            for subkey in dictionary.keys.sorted() {
                if let subvalue = dictionary[subkey] {
                    append(subvalue, key: key + "." + subkey, to: &pairs)
                }
            }
        case .array(let values):
            pairs.append((key: key, value: "[" + values.map(\.description).joined(separator: ", ") + "]"))
        }
    }

    /// `text` kept on one line for the text format: control characters escaped, quoted when it has spaces or `=`.
    static func textValue(_ text: String, quoteIfNeeded: Bool) -> String {
        let needsEscaping = text.unicodeScalars.contains { $0.value < 0x20 || $0 == "\"" || $0.value == 0x7F }
        let needsQuotes = quoteIfNeeded && (text.isEmpty || text.contains(" ") || text.contains("="))
        if needsEscaping && quoteIfNeeded || needsQuotes {
            return JSONString.literal(text)
        }
        if needsEscaping {
            return String(JSONString.literal(text).dropFirst().dropLast())
        }
        return text
    }
}
