public import ArgumentParser

/// An option value whose accepted form is worth saying in an error ("must be <expectedFormat>").
public protocol ArgumentFormat {
    static var expectedFormat: String { get }
}

/// A duration on the command line: a number with a unit (`500ms`, `90s`, `15m`, `24h`, `7d`); a bare number is seconds.
public struct DurationArgument: ExpressibleByArgument, ArgumentFormat, Sendable, Hashable, CustomStringConvertible {
    public static let expectedFormat = "a duration such as 500ms, 90s, 15m, 24h or 7d"

    public var duration: Duration
    /// The text as given, for `--help` defaults and messages.
    public var description: String

    public init(_ duration: Duration, text: String) {
        self.duration = duration
        self.description = text
    }

    public init?(argument: String) {
        let text = argument.trimmingCharacters(in: " \t")
        let units: [(suffix: String, milliseconds: Int)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var number = Substring(text)
        var scale = 1_000
        // "ms" is checked before "m" and "s" so it is not read as minutes.
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.milliseconds
            break
        }
        guard let value = Int(number), value > 0 else { return nil }
        let (milliseconds, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        self.init(.milliseconds(milliseconds), text: text)
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, characters.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, characters.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

/// A retention on the command line: a `DurationArgument`, or `0` (also `off`) for none.
public struct RetentionArgument: ExpressibleByArgument, ArgumentFormat, Sendable, Hashable, CustomStringConvertible {
    public static let expectedFormat = "0 (off) or a duration such as 12h or 30d"

    /// Nil when retention is off.
    public var duration: Duration?
    public var description: String

    public init(_ duration: Duration?, text: String) {
        self.duration = duration
        self.description = text
    }

    public init?(argument: String) {
        if argument == "0" || argument == "off" {
            self.init(nil, text: argument)
            return
        }
        guard let parsed = DurationArgument(argument: argument) else { return nil }
        self.init(parsed.duration, text: parsed.description)
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}
