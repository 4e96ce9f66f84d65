/// The common case of a webhook body — plain ASCII JSON without escapes — checked by a small scanner that never builds a
/// dictionary; `ReviewVerdict.decode` uses it first and leaves everything it is not sure about to Foundation, which stays
/// the single source of truth for every error answer.
///
/// A strict JSON scanner for the subset where its answer provably matches Foundation's: ASCII, no backslash
/// escapes, no exponents or long numbers, nesting at most 32 deep. Returns nil for anything else, and for every
/// invalid verdict (the error list is Foundation's business).
struct VerdictFastScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private static let maxDepth = 32

    /// Where a plain, valid verdict's three values are in the bytes.
    struct Fields {
        var agentId: Range<Int>
        var documentId: Range<Int>
        var documentStatus: Verdict
    }

    mutating func verdict() -> ReviewVerdict? {
        guard let fields = scan() else { return nil }
        return ReviewVerdict(agentId: text(fields.agentId), documentId: text(fields.documentId), documentStatus: fields.documentStatus)
    }

    /// The verdict's fields when the body is a plain, valid verdict; nil otherwise. Builds no string.
    mutating func scan() -> Fields? {
        for byte in bytes where byte >= 0x80 || byte == UInt8(ascii: "\\") { return nil }
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var agentId: Range<Int>?
        var documentId: Range<Int>?
        var status: Range<Int>?
        skipSpace()
        if peek() == UInt8(ascii: "}") { return nil }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch Self.field(bytes, key) {
            case 1:
                guard agentId == nil, let value = string() else { return nil }
                agentId = value
            case 2:
                guard documentId == nil, let value = string() else { return nil }
                documentId = value
            case 3:
                guard status == nil, let value = string() else { return nil }
                status = value
            default:
                guard skipValue(depth: 1) else { return nil }
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return nil }
            break
        }
        skipSpace()
        guard index == bytes.count, let agentId, let documentId, let status else { return nil }
        // ASCII without control characters: one byte is one character.
        let limit = ReviewVerdict.maxIdentifierLength
        let statusBytes = UnsafeBufferPointer(rebasing: bytes[status])
        guard (1...limit).contains(agentId.count), (1...limit).contains(documentId.count),
              let verdict = Verdict.allCases.first(where: { statusBytes.elementsEqual($0.rawValue.utf8) })
        else { return nil }
        return Fields(agentId: agentId, documentId: documentId, documentStatus: verdict)
    }

    /// 1 agentId, 2 documentId, 3 documentStatus, 0 any other key.
    private static func field(_ bytes: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Int {
        let slice = UnsafeBufferPointer(rebasing: bytes[key])
        if slice.elementsEqual("agentId".utf8) { return 1 }
        if slice.elementsEqual("documentId".utf8) { return 2 }
        if slice.elementsEqual("documentStatus".utf8) { return 3 }
        return 0
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    /// A string without escapes or control characters; returns the range of its contents.
    private mutating func string() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<(index - 1)
            }
            if byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= Self.maxDepth, let byte = peek() else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"):
            index += 1
            skipSpace()
            if take(UInt8(ascii: "}")) { return true }
            while true {
                skipSpace()
                guard string() != nil else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        case UInt8(ascii: "["):
            index += 1
            skipSpace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        guard UnsafeBufferPointer(rebasing: bytes[index..<(index + count)]).elementsEqual(expected) else { return false }
        index += count
        return true
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 15 digits: exactly representable, so no parser disagrees on it.
    private mutating func number() -> Bool {
        var digits = 0
        _ = take(UInt8(ascii: "-"))
        guard let first = peek(), Self.isDigit(first) else { return false }
        if first == UInt8(ascii: "0") {
            index += 1
            digits += 1
        } else {
            while let byte = peek(), Self.isDigit(byte) {
                index += 1
                digits += 1
            }
        }
        if take(UInt8(ascii: ".")) {
            guard let byte = peek(), Self.isDigit(byte) else { return false }
            while let byte = peek(), Self.isDigit(byte) {
                index += 1
                digits += 1
            }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return false }
        return digits <= 15
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
