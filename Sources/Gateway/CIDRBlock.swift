/// An address range like `10.0.0.0/8` or `::1/128`; a bare address means just that address.
struct CIDRBlock: Sendable, Hashable, CustomStringConvertible {
    let network: IPAddress
    let prefixLength: Int

    /// Parses `address[/prefix]`; nil when the address or the prefix length is not valid for its family.
    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = parts.first.flatMap({ IPAddress($0) }) else { return nil }
        // A mapped IPv6 CIDR (::ffff:10.0.0.0/104) was turned into IPv4 by IPAddress; its prefix shrinks by 96.
        let written = parts[0].contains(":")
        let maxBits = written ? 128 : 32
        var length = maxBits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isASCII),
                  let n = Int(parts[1]), (0...maxBits).contains(n)
            else { return nil }
            length = n
        }
        if written && address.isIPv4 {
            guard length >= 96 else { return nil }
            length -= 96
        }
        network = address
        prefixLength = length
    }

    /// Whether `address` lies in this block (never across families).
    func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<network.bytes.count {
            if remaining <= 0 { return true }
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if (address.bytes[index] & mask) != (network.bytes[index] & mask) { return false }
            remaining -= 8
        }
        return true
    }

    var description: String { "\(network)/\(prefixLength)" }
}
