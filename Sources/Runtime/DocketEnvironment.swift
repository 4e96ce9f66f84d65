#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import ArgumentParser
import Synchronization

/// Environment-variable defaults for command-line options (docs/reference.md §1, §2): flags win, then `DOCKET_*`,
/// then the built-in default.
///
/// Not named `Environment` because Hummingbird, which HelpDeskSim and HealthEndpoint import beside Runtime, exports a type
/// of that name.
/// The non-throwing lookups are meant for option property initialisers, where nothing can throw: an invalid value
/// falls back to the default and is recorded, and `DocketMain` fails the start with exit 2 naming the variable.
public enum DocketEnvironment {
    /// Invalid variables seen by the non-throwing lookups, by name, so `validate()` can report them after parsing.
    private static let problems = Mutex<[String: String]>([:])

    /// The variable's value, or `default` when it is unset or empty.
    public static func string(_ name: String, default defaultValue: String) -> String {
        value(of: name) ?? defaultValue
    }

    /// The variable's value, or nil when it is unset or empty (for settings without a default, e.g. secrets).
    public static func optionalString(_ name: String) -> String? {
        value(of: name)
    }

    /// The variable as an integer, or `default` when unset; an invalid value is recorded for `validate()`.
    public static func int(_ name: String, default defaultValue: Int) -> Int {
        record(name) { () throws(ValidationError) -> Int in
            try checkedInt(name, default: defaultValue, value: value(of: name))
        } fallback: { defaultValue }
    }

    /// The variable as a switch: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case); `default` when unset;
    /// anything else is recorded for `validate()`.
    public static func flag(_ name: String, default defaultValue: Bool = false) -> Bool {
        record(name) { () throws(ValidationError) -> Bool in
            try checkedFlag(name, default: defaultValue, value: value(of: name))
        } fallback: { defaultValue }
    }

    /// Parses `value` (the variable's text, nil when unset) as a switch; the error names the variable.
    public static func checkedFlag(_ name: String, default defaultValue: Bool, value: String?) throws(ValidationError) -> Bool {
        guard let text = value, !text.isEmpty else { return defaultValue }
        switch text.trimmingSpaces().lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ValidationError("\(name) must be 1 or 0 (true/false, yes/no, on/off), got \"\(text)\"")
        }
    }

    /// The variable parsed as an option value (an enum, say), or `default` when unset; an invalid value is recorded.
    public static func value<T: ExpressibleByArgument>(_ name: String, default defaultValue: T) -> T {
        record(name) { () throws(ValidationError) -> T in
            try checkedValue(name, default: defaultValue, value: value(of: name))
        } fallback: { defaultValue }
    }

    /// Parses `value` (the variable's text, nil when unset) as an integer; the error names the variable.
    public static func checkedInt(_ name: String, default defaultValue: Int, value: String?) throws(ValidationError) -> Int {
        guard let text = value, !text.isEmpty else { return defaultValue }
        guard let number = Int(text.trimmingSpaces()) else {
            throw ValidationError("\(name) must be an integer, got \"\(text)\"")
        }
        return number
    }

    /// Parses `value` (the variable's text, nil when unset) as an option value; the error names the variable and the choices.
    public static func checkedValue<T: ExpressibleByArgument>(
        _ name: String,
        default defaultValue: T,
        value: String?
    ) throws(ValidationError) -> T {
        guard let text = value, !text.isEmpty else { return defaultValue }
        guard let parsed = T(argument: text.trimmingSpaces()) else {
            let choices = T.allValueStrings
            let expected = (T.self as? any ArgumentFormat.Type)?.expectedFormat
                ?? (choices.isEmpty ? "a valid value" : "one of " + choices.joined(separator: ", "))
            throw ValidationError("\(name) must be \(expected), got \"\(text)\"")
        }
        return parsed
    }

    /// Throws for the first (by name) invalid variable that an option default read; `DocketMain` calls this after parsing.
    public static func validate() throws(ValidationError) {
        let first = problems.withLock { problems in
            problems.keys.sorted().first.flatMap { problems[$0] }
        }
        if let first {
            throw ValidationError(first)
        }
    }

    private static func record<T>(
        _ name: String,
        _ parse: () throws(ValidationError) -> T,
        fallback: () -> T
    ) -> T {
        do {
            let parsed = try parse()
            problems.withLock { _ = $0.removeValue(forKey: name) }
            return parsed
        } catch {
            problems.withLock { $0[name] = error.message }
            return fallback()
        }
    }

    private static func value(of name: String) -> String? {
        guard let pointer = getenv(name) else { return nil }
        let text = String(cString: pointer)
        return text.isEmpty ? nil : text
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
