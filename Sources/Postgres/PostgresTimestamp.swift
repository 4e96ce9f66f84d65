import Foundation

/// Text form of timestamptz with microsecond precision, in pure arithmetic so it does not depend on locale or time zone data.
enum PostgresTimestamp {
    private static let microsPerDay = 86_400_000_000

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, the ISO form Postgres accepts under every DateStyle.
    static func format(_ date: Date) -> String {
        let micros = Int((date.timeIntervalSince1970 * 1_000_000).rounded())
        let days = floorDivide(micros, microsPerDay)
        var rest = micros - days * microsPerDay
        let (year, month, day) = civil(fromDays: days)
        let hour = rest / 3_600_000_000
        rest -= hour * 3_600_000_000
        let minute = rest / 60_000_000
        rest -= minute * 60_000_000
        let second = rest / 1_000_000
        let fraction = rest - second * 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(fraction, 6))+00"
    }

    /// Parses the ISO output of timestamptz (`2024-02-29 12:34:56.123456+05:30`), timestamp (no offset: UTC) and date;
    /// `infinity`/`-infinity` map to `Date.distantFuture`/`distantPast`. nil when the text is in another form.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var scanner = TextScanner(Array(text.utf8))
        guard let year = scanner.number(minDigits: 4), scanner.take("-"),
              let month = scanner.number(digits: 2), scanner.take("-"),
              let day = scanner.number(digits: 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var micros = days(fromCivil: year, month, day) * microsPerDay
        if scanner.atEnd { return date(micros) }
        guard scanner.take(" ") || scanner.take("T"),
              let hour = scanner.number(digits: 2), scanner.take(":"),
              let minute = scanner.number(digits: 2), scanner.take(":"),
              let second = scanner.number(digits: 2)
        else { return nil }
        micros += ((hour * 60 + minute) * 60 + second) * 1_000_000
        if scanner.take(".") {
            var scale = 100_000
            var digitCount = 0
            while let digit = scanner.digit() {
                micros += digit * scale
                scale /= 10
                digitCount += 1
            }
            guard digitCount > 0 else { return nil }
        }
        if scanner.atEnd { return date(micros) }
        let sign: Int
        if scanner.take("+") { sign = 1 } else if scanner.take("-") { sign = -1 } else { return nil }
        guard let offsetHours = scanner.number(digits: 2) else { return nil }
        var offsetSeconds = offsetHours * 3600
        if scanner.take(":") {
            guard let offsetMinutes = scanner.number(digits: 2) else { return nil }
            offsetSeconds += offsetMinutes * 60
            if scanner.take(":") {
                guard let offsetSecondsPart = scanner.number(digits: 2) else { return nil }
                offsetSeconds += offsetSecondsPart
            }
        }
        guard scanner.atEnd else { return nil }
        micros -= sign * offsetSeconds * 1_000_000
        return date(micros)
    }

    private static func date(_ micros: Int) -> Date {
        // Split so that whole seconds stay exact before the fraction is added.
        let seconds = floorDivide(micros, 1_000_000)
        let fraction = micros - seconds * 1_000_000
        return Date(timeIntervalSince1970: Double(seconds) + Double(fraction) / 1_000_000)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// A proleptic Gregorian date to days since 1970-01-01.
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private struct TextScanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func number(digits count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func number(minDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while let digit = digit() {
                value = value * 10 + digit
                count += 1
            }
            return count >= minDigits ? value : nil
        }
    }
}
