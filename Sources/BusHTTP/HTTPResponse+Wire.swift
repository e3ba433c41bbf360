extension HTTPResponse {
    /// Appends the response as HTTP/1.1 bytes to `output`: status line, the handler's fields,
    /// `Date`, `Content-Length` (none for 1xx, 204 and 304) and `Connection` (`close` when
    /// `closing` or the handler asked for it, `keep-alive` for a persistent HTTP/1.0 client),
    /// then the body unless `headOnly` (a reply to HEAD). Returns whether the connection closes.
    func serialize(into output: inout [UInt8], headOnly: Bool, closing: Bool, http10: Bool, date: [UInt8]) -> Bool {
        var closing = closing
        let bodyAllowed = status >= 200 && status != 204 && status != 304
        output.reserveCapacity(output.count + 128 + (bodyAllowed && !headOnly ? body.count : 0))
        output.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &output)
        output.append(UInt8(ascii: " "))
        output.append(contentsOf: Self.reasonPhrase(status).utf8)
        output.append(contentsOf: "\r\n".utf8)
        for field in headers.fields {
            // Framing is the server's business: a handler's own length or connection field is
            // dropped (`asksToClose` reads the latter first).
            if field.name.caseInsensitiveEquals("Content-Length") { continue }
            if field.name.caseInsensitiveEquals("Connection") {
                if field.value.caseInsensitiveEquals("close") { closing = true }
                continue
            }
            output.append(contentsOf: field.name.utf8)
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: field.value.utf8)
            output.append(contentsOf: "\r\n".utf8)
        }
        output.append(contentsOf: date)
        if bodyAllowed {
            output.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(body.count, to: &output)
            output.append(contentsOf: "\r\n".utf8)
        }
        if closing {
            output.append(contentsOf: "Connection: close\r\n".utf8)
        } else if http10 {
            output.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        output.append(contentsOf: "\r\n".utf8)
        if bodyAllowed && !headOnly { output.append(contentsOf: body) }
        return closing
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
