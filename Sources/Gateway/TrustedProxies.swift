import Runtime

/// The reverse proxies whose forwarding headers (`X-Forwarded-For`, `Forwarded`, `X-Request-ID`) the gateway believes.
struct TrustedProxies: Sendable, Hashable {
    /// The configured ranges; empty trusts nobody.
    let blocks: [CIDRBlock]

    /// The default in docs/reference.md §2: the local proxy only.
    static let localDefault = "127.0.0.1/32,::1/128"

    init(blocks: [CIDRBlock]) {
        self.blocks = blocks
    }

    /// Parses a comma- or space-separated CIDR list; the error names the entry that is not a CIDR.
    init(parsing text: String) throws(ConfigurationError) {
        var blocks: [CIDRBlock] = []
        for entry in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            guard let block = CIDRBlock(entry) else {
                throw ConfigurationError(
                    "DOCKET_TRUSTED_PROXIES (--trusted-proxies): \"\(entry)\" is not an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or ::1/128")
            }
            blocks.append(block)
        }
        self.blocks = blocks
    }

    /// Whether `address` (textual, as the socket reports it) belongs to a trusted proxy.
    func isTrusted(_ address: String?) -> Bool {
        guard !blocks.isEmpty, let address, let ip = IPAddress(Self.hostPart(Substring(address))) else { return false }
        return isTrusted(ip)
    }

    func isTrusted(_ address: IPAddress) -> Bool {
        blocks.contains { $0.contains(address) }
    }

    /// The client's address for logs: the peer itself, unless the peer is a trusted proxy, in which case the
    /// forwarding chain is walked from the right, skipping trusted proxies, to the first address we cannot vouch for.
    /// `X-Forwarded-For` wins over `Forwarded` when both are present.
    func clientAddress(peer: String?, forwardedFor: String?, forwarded: String?) -> String? {
        guard isTrusted(peer) else { return peer }
        let chain: [Substring]
        if let forwardedFor, !forwardedFor.isEmpty {
            chain = Self.forwardedForChain(forwardedFor)
        } else if let forwarded, !forwarded.isEmpty {
            chain = Self.forwardedChain(forwarded)
        } else {
            return peer
        }
        guard !chain.isEmpty else { return peer }
        for hop in chain.reversed() {
            // A hop that is not an address at all ("unknown", an obfuscated token) cannot be a trusted proxy.
            guard let ip = IPAddress(hop), isTrusted(ip) else { return String(hop) }
        }
        // Every hop is one of ours: the leftmost is as far as the chain goes.
        return String(chain[0])
    }

    /// `X-Forwarded-For: client, proxy1, proxy2` → hosts without ports or brackets.
    static func forwardedForChain(_ header: String) -> [Substring] {
        header.split(separator: ",").compactMap { entry in
            let host = hostPart(trimmed(entry))
            return host.isEmpty ? nil : host
        }
    }

    /// RFC 7239 `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"` → the `for` hosts.
    static func forwardedChain(_ header: String) -> [Substring] {
        var hosts: [Substring] = []
        for element in header.split(separator: ",") {
            for pair in element.split(separator: ";") {
                let pair = trimmed(pair)
                guard let equals = pair.firstIndex(of: "="),
                      pair[..<equals].lowercased() == "for"
                else { continue }
                var value = trimmed(pair[pair.index(after: equals)...])
                if value.count >= 2, value.first == "\"", value.last == "\"" {
                    value = value.dropFirst().dropLast()
                }
                let host = hostPart(value)
                if !host.isEmpty { hosts.append(host) }
            }
        }
        return hosts
    }

    /// `[v6]:port` → `v6`, `a.b.c.d:port` → `a.b.c.d`; anything else unchanged.
    static func hostPart(_ text: Substring) -> Substring {
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return text }
            return text[text.index(after: text.startIndex)..<close]
        }
        if let colon = text.firstIndex(of: ":"), text.contains("."),
           text[text.index(after: colon)...].firstIndex(of: ":") == nil {
            return text[..<colon]
        }
        return text
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
