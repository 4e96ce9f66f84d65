import Redis

/// One stream entry: its id and its fields in order, values as raw bytes.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [(name: String, value: [UInt8])]

    public init(id: String, fields: [(name: String, value: [UInt8])]) {
        self.id = id
        self.fields = fields
    }

    /// The value of one field, if present.
    public func value(_ name: String) -> [UInt8]? {
        fields.first { $0.name == name }?.value
    }

    /// The value of one field as text, if present.
    public func string(_ name: String) -> String? {
        value(name).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func == (lhs: StreamEntry, rhs: StreamEntry) -> Bool {
        lhs.id == rhs.id && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Decodes `[id, [field, value, ...]]`; an entry deleted while pending comes back with nil fields and decodes to nil.
    static func decode(_ value: RESPValue) throws -> StreamEntry? {
        guard let pair = value.array, pair.count == 2, let id = pair[0].string else {
            throw RedisError.unexpected("a stream entry [id, fields]", value)
        }
        guard let flat = pair[1].array else { return nil }
        var fields: [(name: String, value: [UInt8])] = []
        fields.reserveCapacity(flat.count / 2)
        var index = 0
        while index + 1 < flat.count {
            fields.append((flat[index].string ?? "", flat[index + 1].bytes ?? []))
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }

    /// Decodes a list of entries, dropping deleted ones.
    static func decodeList(_ value: RESPValue) throws -> [StreamEntry] {
        guard let list = value.array else {
            if value.isNull { return [] }
            throw RedisError.unexpected("a list of stream entries", value)
        }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(list.count)
        for item in list {
            if let entry = try decode(item) { entries.append(entry) }
        }
        return entries
    }
}
