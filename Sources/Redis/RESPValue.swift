/// A Redis reply as a Swift value; nested arrays mirror XREADGROUP and XAUTOCLAIM replies.
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString([UInt8])
    case null
    case array([RESPValue])

    /// The text of a status or bulk reply (bulk decoded as UTF-8, lossily).
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// An integer reply, or a status/bulk reply that holds a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let i): return i
        case .simpleString(let s): return Int(s)
        case .bulkString(let b): return Int(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }

    /// The raw bytes of a bulk reply (or a status reply's UTF-8).
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let b): return b
        case .simpleString(let s): return Array(s.utf8)
        default: return nil
        }
    }

    /// The elements of an array reply; `nil` for a null reply or any other type.
    public var array: [RESPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The reply's shape without its content (values may be webhook bodies; error replies keep only their code), for
    /// error messages that end up in logs.
    var kindDescription: String {
        switch self {
        case .simpleString: return "status"
        case .error(let m): return "error \(m.split(separator: " ", maxSplits: 1).first ?? "")"
        case .integer: return "integer"
        case .bulkString(let b): return "bulk string of \(b.count) bytes"
        case .null: return "nil"
        case .array(let a): return "array of \(a.count)"
        }
    }
}
