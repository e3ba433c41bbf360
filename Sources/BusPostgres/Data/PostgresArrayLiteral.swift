/// Postgres array literals for text-format parameters: `{"a","b"}`.
///
/// Every element is double-quoted with `"` and `\` escaped, so commas, braces, spaces and the
/// word NULL inside an element stay text; the literal is sent as a parameter, never spliced
/// into SQL.
package enum PostgresArrayLiteral {
    package static func of(_ elements: [String]) -> String {
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text.append(",") }
            text.append("\"")
            for character in element {
                if character == "\"" || character == "\\" { text.append("\\") }
                text.append(character)
            }
            text.append("\"")
        }
        text.append("}")
        return text
    }
}
