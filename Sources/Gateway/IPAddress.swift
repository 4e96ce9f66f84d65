/// An IPv4 or IPv6 address parsed from text; IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) count as IPv4.
struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    let bytes: [UInt8]

    var isIPv4: Bool { bytes.count == 4 }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an IPv4 tail); nil for anything else.
    init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        if let v4 = Self.parseIPv4(utf8[...]) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(utf8) {
            // A mapped address is how a dual-stack socket reports an IPv4 peer: match it against IPv4 CIDRs.
            if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xFF && v6[11] == 0xFF {
                bytes = Array(v6[12..<16])
            } else {
                bytes = v6
            }
        } else {
            return nil
        }
    }

    var description: String {
        if isIPv4 { return bytes.map { String($0) }.joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }

    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        for part in text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            // No leading zeros: "010" is octal to some parsers, so it is ambiguous and rejected.
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(isDigit),
                  part.count == 1 || part.first != UInt8(ascii: "0")
            else { return nil }
            var value = 0
            for digit in part { value = value * 10 + Int(digit - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            out.append(UInt8(value))
        }
        return out.count == 4 ? out : nil
    }

    static func parseIPv6(_ text: [UInt8]) -> [UInt8]? {
        guard text.count >= 2, text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var index = 0
        if text.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawGap = true
            index = 2
        } else if text[0] == UInt8(ascii: ":") {
            return nil
        }
        while index < text.count {
            // Read one group (or an IPv4 tail).
            var end = index
            while end < text.count, text[end] != UInt8(ascii: ":") { end += 1 }
            let part = text[index..<end]
            if part.contains(UInt8(ascii: ".")) {
                // An IPv4 tail must be last and takes two groups.
                guard end == text.count, let v4 = parseIPv4(part) else { return nil }
                let groups = [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                if sawGap { tail += groups } else { head += groups }
                index = end
                break
            }
            guard !part.isEmpty, part.count <= 4, let group = hexValue(part) else { return nil }
            if sawGap { tail.append(group) } else { head.append(group) }
            index = end
            if index < text.count {
                // Skip ':'; a second ':' right after marks the gap (only one allowed).
                index += 1
                if index < text.count, text[index] == UInt8(ascii: ":") {
                    guard !sawGap else { return nil }
                    sawGap = true
                    index += 1
                } else if index == text.count {
                    return nil  // trailing single ':'
                }
            }
        }
        let total = head.count + tail.count
        if sawGap {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for group in groups {
            out.append(UInt8(group >> 8))
            out.append(UInt8(group & 0xFF))
        }
        return out
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func hexValue(_ part: ArraySlice<UInt8>) -> UInt16? {
        var value: UInt16 = 0
        for byte in part {
            let digit: UInt16
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt16(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt16(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt16(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
