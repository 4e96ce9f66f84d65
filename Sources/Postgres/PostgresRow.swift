public import Foundation

/// One row of a result, in the server's text format, read by column name.
public struct PostgresRow: Sendable {
    /// Column name to position; shared (copy-on-write) by all rows of a result.
    let columnIndex: [String: Int]
    /// Text values by position; nil is SQL NULL.
    public let values: [String?]

    init(columnIndex: [String: Int], values: [String?]) {
        self.columnIndex = columnIndex
        self.values = values
    }

    /// The text value of a column; nil when it is SQL NULL or there is no such column.
    public subscript(_ column: String) -> String? {
        guard let index = columnIndex[column] else { return nil }
        return values[index]
    }

    /// True when the column holds SQL NULL (or does not exist).
    public func isNull(_ column: String) -> Bool {
        self[column] == nil
    }

    /// The text of a column that must not be NULL.
    public func string(_ column: String) throws(PostgresError) -> String {
        guard let text = try value(column) else {
            throw PostgresError(code: .decoding, message: "column \"\(column)\" is NULL")
        }
        return text
    }

    /// An integer column; nil for NULL.
    public func int(_ column: String) throws(PostgresError) -> Int? {
        try decode(column, as: "an integer") { Int($0) }
    }

    /// A boolean column; nil for NULL.
    public func bool(_ column: String) throws(PostgresError) -> Bool? {
        try decode(column, as: "a boolean") { $0 == "t" ? true : $0 == "f" ? false : nil }
    }

    /// A float column; nil for NULL.
    public func double(_ column: String) throws(PostgresError) -> Double? {
        try decode(column, as: "a number") { text in
            switch text {
            case "Infinity": .infinity
            case "-Infinity": -.infinity
            default: Double(text)
            }
        }
    }

    /// A timestamptz (or timestamp, read as UTC, or date) column; nil for NULL.
    public func date(_ column: String) throws(PostgresError) -> Date? {
        try decode(column, as: "a timestamp") { PostgresTimestamp.parse($0) }
    }

    /// A one-dimensional text[] column; nil for NULL.
    public func stringArray(_ column: String) throws(PostgresError) -> [String?]? {
        try decode(column, as: "a one-dimensional array") { PostgresArrayLiteral.decode($0) }
    }

    /// A one-dimensional integer array column; nil for NULL.
    public func intArray(_ column: String) throws(PostgresError) -> [Int?]? {
        try decode(column, as: "a one-dimensional integer array") { text -> [Int?]? in
            guard let elements = PostgresArrayLiteral.decode(text) else { return nil }
            var ints: [Int?] = []
            for element in elements {
                guard let element else {
                    ints.append(nil)
                    continue
                }
                guard let int = Int(element) else { return nil }
                ints.append(int)
            }
            return ints
        }
    }

    /// A bytea column (hex output format); nil for NULL.
    public func bytes(_ column: String) throws(PostgresError) -> [UInt8]? {
        try decode(column, as: "bytea") { PostgresByteaText.decode($0) }
    }

    private func value(_ column: String) throws(PostgresError) -> String? {
        guard let index = columnIndex[column] else {
            let known = columnIndex.keys.sorted().joined(separator: ", ")
            throw PostgresError(code: .decoding, message: "no column \"\(column)\" in the result (columns: \(known))")
        }
        return values[index]
    }

    private func decode<T>(_ column: String, as kind: String, _ parse: (String) -> T?) throws(PostgresError) -> T? {
        guard let text = try value(column) else { return nil }
        guard let decoded = parse(text) else {
            throw PostgresError(code: .decoding, message: "column \"\(column)\" is not \(kind): \"\(text.prefix(64))\"")
        }
        return decoded
    }
}
