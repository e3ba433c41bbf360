extension HTTPResponse {
    /// Appends the response as HTTP/1.1 bytes to `output`: status line, the handler's fields,
    /// `Date`, `Content-Length` (none for 1xx, 204 and 304) and `Connection` (`close` when
    /// `closing` or the handler asked for it, `keep-alive` for a persistent HTTP/1.0 client),
    /// then the body unless `headOnly` (a reply to HEAD). Returns whether the connection closes.
    func serialize(into output: inout [UInt8], headOnly: Bool, closing: Bool, http10: Bool, date: [UInt8]) -> Bool {
        var closing = closing
        let bodyAllowed = status >= 200 && status != 204 && status != 304
        output.reserveCapacity(output.count + 128 + (bodyAllowed && !headOnly ? body.count : 0))
        if Self.statusLines.indices.contains(status - 100) {
            output.append(contentsOf: Self.statusLines[status - 100])
        } else {
            output.append(contentsOf: Self.statusLine(status))
        }
        for field in headers.fields {
            // Framing is the server's business: a handler's own length or connection field is
            // dropped (`asksToClose` reads the latter first).
            if field.name.caseInsensitiveEquals("Content-Length") { continue }
            if field.name.caseInsensitiveEquals("Connection") {
                if field.value.caseInsensitiveEquals("close") { closing = true }
                continue
            }
            output.appendUTF8(field.name)
            output.appendASCII(": ")
            output.appendUTF8(field.value)
            output.appendASCII("\r\n")
        }
        output.append(contentsOf: date)
        if bodyAllowed {
            output.appendASCII("Content-Length: ")
            appendDecimal(body.count, to: &output)
            output.appendASCII("\r\n")
        }
        if closing {
            output.appendASCII("Connection: close\r\n")
        } else if http10 {
            output.appendASCII("Connection: keep-alive\r\n")
        }
        output.appendASCII("\r\n")
        if bodyAllowed && !headOnly { output.append(contentsOf: body) }
        return closing
    }

    /// `HTTP/1.1 <status> <reason>\r\n`, encoded once for statuses 100 to 599 (index
    /// `status - 100`): a reply copies its status line instead of formatting it.
    private static let statusLines: [[UInt8]] = (100..<600).map(statusLine)

    private static func statusLine(_ status: Int) -> [UInt8] {
        var line = Array("HTTP/1.1 ".utf8)
        appendDecimal(status, to: &line)
        line.append(contentsOf: " \(reasonPhrase(status))\r\n".utf8)
        return line
    }
}

extension [UInt8] {
    /// Appends a string's UTF-8 in one copy (`append(contentsOf: text.utf8)` went byte by byte).
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends a literal's bytes in one copy.
    mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }
}

/// Appends the decimal digits of a non-negative `value`, without making a String.
func appendDecimal(_ value: Int, to output: inout [UInt8]) {
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var remaining = max(0, value)
    var count = 0
    withUnsafeMutableBytes(of: &digits) { buffer in
        repeat {
            buffer[9 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            count += 1
        } while remaining > 0 && count < 10
        output.append(contentsOf: buffer[(10 - count)...])
    }
}
