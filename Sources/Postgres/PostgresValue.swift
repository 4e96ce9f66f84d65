public import Foundation

/// A query parameter, sent to the server in text format with an explicit type.
public enum PostgresValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    case null
    case text(String)
    case int(Int)
    case bool(Bool)
    case double(Double)
    case timestamp(Date)
    case textArray([String?])
    case intArray([Int?])
    case bytea([UInt8])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }

    /// The type OID the parameter is declared with; 0 (unknown) for NULL lets the server infer it from context.
    var typeOID: UInt32 {
        switch self {
        case .null: 0
        case .text: 25
        case .int: 20
        case .bool: 16
        case .double: 701
        case .timestamp: 1184
        case .textArray: 1009
        case .intArray: 1016
        case .bytea: 17
        }
    }

    /// The text-format encoding of the value; nil for SQL NULL.
    func encoded() throws(PostgresError) -> String? {
        switch self {
        case .null:
            return nil
        case .text(let string):
            try Self.checkNoNUL(string)
            return string
        case .int(let int):
            return String(int)
        case .bool(let bool):
            return bool ? "t" : "f"
        case .double(let double):
            if double.isNaN { return "NaN" }
            if double.isInfinite { return double < 0 ? "-Infinity" : "Infinity" }
            // Swift's description is the shortest text that round-trips exactly.
            return double.description
        case .timestamp(let date):
            return PostgresTimestamp.format(date)
        case .textArray(let elements):
            for case let element? in elements { try Self.checkNoNUL(element) }
            return PostgresArrayLiteral.encode(elements)
        case .intArray(let elements):
            return PostgresArrayLiteral.encode(elements.map { $0.map(String.init) })
        case .bytea(let bytes):
            return PostgresByteaText.encode(bytes)
        }
    }

    private static func checkNoNUL(_ string: String) throws(PostgresError) {
        if string.utf8.contains(0) {
            throw PostgresError(code: .decoding, message: "a text parameter contains a NUL byte, which Postgres text cannot store")
        }
    }
}
