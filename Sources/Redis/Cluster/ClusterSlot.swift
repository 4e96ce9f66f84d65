/// Redis Cluster's hash slots (https://redis.io/docs/reference/cluster-spec/, "Keys distribution model"): a key's
/// slot is CRC16 (XMODEM) of its hash tag, or of the whole key when it has none, modulo 16384.
public enum ClusterSlot {
    public static let count = 16_384

    /// The slot of `key` (its bytes, as sent).
    public static func of(_ key: some Collection<UInt8>) -> Int {
        Int(crc16(hashTag(of: key)) & 0x3FFF)
    }

    public static func of(_ key: String) -> Int {
        of(Array(key.utf8))
    }

    /// What is hashed: the bytes between the first `{` and the first `}` after it, when there is at least one;
    /// otherwise the whole key (`{}` and a `{` with no `}` after it hash the whole key).
    public static func hashTag<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen else { return key[...] }
        return key[afterOpen..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection — Redis's `crc16()`.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
