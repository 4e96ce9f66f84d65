/// Encodes and decodes one-dimensional Postgres array literals (`{a,"b c",NULL}`).
enum PostgresArrayLiteral {
    /// Every element is double-quoted with `\` and `"` escaped, so commas, braces, spaces and the word NULL stay data;
    /// only a nil element is written as the bare keyword NULL.
    static func encode(_ elements: [String?]) -> String {
        var literal = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { literal += "," }
            guard let element else {
                literal += "NULL"
                continue
            }
            literal += "\""
            for character in element.unicodeScalars {
                if character == "\\" || character == "\"" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        literal += "}"
        return literal
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
