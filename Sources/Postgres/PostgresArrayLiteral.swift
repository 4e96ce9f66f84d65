/// Encodes and decodes one-dimensional Postgres array literals (`{a,"b c",NULL}`).
enum PostgresArrayLiteral {
    /// Every element is double-quoted with `\` and `"` escaped, so commas, braces, spaces and the word NULL stay data;
    /// only a nil element is written as the bare keyword NULL.
    static func encode(_ elements: [String?]) -> String {
        var capacity = 2
        for element in elements { capacity += (element?.utf8.count ?? 4) + 3 }
        var literal: [UInt8] = []
        literal.reserveCapacity(capacity)
        literal.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            guard let element else {
                literal.append(contentsOf: "NULL".utf8)
                continue
            }
            literal.append(UInt8(ascii: "\""))
            // Byte-wise is safe: in UTF-8, `\` and `"` never occur inside a multi-byte sequence.
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
    }

    /// Parses the server's text output of a one-dimensional array; nil when the text is not such an array.
    static func decode(_ text: String) -> [String?]? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        var elements: [String?] = []
        var index = 1
        let end = scalars.count - 1
        if index == end { return [] }
        while index <= end {
            // Skip insignificant whitespace before an element.
            while index < end, scalars[index] == " " { index += 1 }
            var value = String.UnicodeScalarView()
            var quoted = false
            if index < end, scalars[index] == "\"" {
                quoted = true
                index += 1
                while true {
                    guard index < end else { return nil }
                    let scalar = scalars[index]
                    if scalar == "\\" {
                        guard index + 1 < end else { return nil }
                        value.append(scalars[index + 1])
                        index += 2
                    } else if scalar == "\"" {
                        index += 1
                        break
                    } else {
                        value.append(scalar)
                        index += 1
                    }
                }
                while index < end, scalars[index] == " " { index += 1 }
            } else {
                while index < end, scalars[index] != "," {
                    let scalar = scalars[index]
                    // Nested arrays are not supported: this decoder is for one dimension only.
                    if scalar == "{" || scalar == "}" || scalar == "\"" { return nil }
                    if scalar == "\\" {
                        guard index + 1 < end else { return nil }
                        value.append(scalars[index + 1])
                        index += 2
                    } else {
                        value.append(scalar)
                        index += 1
                    }
                }
                while let last = value.last, last == " " { value.removeLast() }
            }
            let string = String(value)
            if !quoted, string.uppercased() == "NULL" {
                elements.append(nil)
            } else {
                elements.append(string)
            }
            if index == end { break }
            guard scalars[index] == "," else { return nil }
            index += 1
            if index == end { return nil }  // trailing comma
        }
        return elements
    }
}
