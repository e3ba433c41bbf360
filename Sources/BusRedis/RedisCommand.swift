/// One argument of a Redis command; binary-safe.
package enum RedisArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes([UInt8])
    case integer(Int64)

    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int64) { self = .integer(value) }
}

/// A command encoded once, up front, in the Redis protocol (RESP), ready to hand to hiredis.
package struct RedisCommand: Sendable {
    /// The RESP bytes followed by one NUL that is not part of the command. hiredis reads a
    /// formatted command as a C string in places: for `SUBSCRIBE` it walks the arguments with
    /// `strchr`, which runs past the last one until it meets a NUL, and it peeks at the byte
    /// after the first argument of every command. Without the NUL those reads left the buffer
    /// (a test run under load died on hiredis's `nextArgument` assertion).
    let terminated: [UInt8]
    /// The command name, for logs and errors.
    package let name: String

    /// The RESP bytes: `*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per argument (a copy: for
    /// tests and logs; sending uses the bytes in place).
    package var encoded: [UInt8] { Array(terminated.dropLast()) }

    package init(_ arguments: RedisArgument...) {
        self.init(arguments)
    }

    package init(_ arguments: [RedisArgument]) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        var encoder = RedisCommandEncoder(argumentCount: arguments.count)
        for argument in arguments {
            switch argument {
            case .string(let text): encoder.append(text)
            case .bytes(let raw): encoder.append(bytes: raw)
            case .integer(let value): encoder.append(value)
            }
        }
        let name: String
        if case .string(let first) = arguments[0] { name = first } else { name = "?" }
        self = encoder.command(name: name)
    }

    /// A command from bytes a `RedisCommandEncoder` wrote, the NUL after them included.
    init(terminated: [UInt8], name: String) {
        precondition(terminated.last == 0, "a command's bytes end with a NUL")
        self.terminated = terminated
        self.name = name
    }

    /// Calls `body` with the command's bytes in place (without the NUL, which follows them in
    /// memory) for the duration of the call.
    func withCommandBytes(_ body: (UnsafePointer<CChar>, Int) -> Int32) -> Int32 {
        terminated.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { body($0.baseAddress!, $0.count - 1) }
        }
    }

    static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        // Most numbers in a command are RESP lengths and counts below 100: written directly.
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        if magnitude < 100 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude / 10))
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            return
        }
        // Longer ones (timestamps, MAXLEN) right to left into a stack buffer, appended in one copy:
        // appending digit by digit cost an array check per byte.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index...]))
        }
    }
}

/// Writes a command's RESP bytes argument by argument, with no argument array in between: the
/// form for hot paths (the gateway's XADD), where `RedisCommand(_:)`'s array would be one more
/// allocation per command. Append exactly `argumentCount` arguments, the name first.
package struct RedisCommandEncoder {
    private var bytes: [UInt8] = []
    private let argumentCount: Int
    private var appended = 0

    package init(argumentCount: Int, capacity: Int? = nil) {
        self.argumentCount = argumentCount
        bytes.reserveCapacity(capacity ?? (16 + argumentCount * 24))
        bytes.append(UInt8(ascii: "*"))
        RedisCommand.appendDecimal(Int64(argumentCount), to: &bytes)
        appendLineEnd()
    }

    package mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { appendBulk($0) }
    }

    package mutating func append(bytes raw: [UInt8]) {
        raw.withUnsafeBufferPointer { appendBulk($0) }
    }

    package mutating func append(_ value: Int64) {
        // `$<length>\r\n<digits>\r\n`, at most 1 + 2 + 2 + 20 + 2 bytes.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { scratch in
            // `$` and a two-digit length fit before the header's CR LF at 3.
            var digits = 0
            let end = Self.writeDecimal(value, into: scratch, at: 5, count: &digits)
            scratch[3] = 13
            scratch[4] = 10
            let start = Self.writeLengthBackwards(digits, into: scratch, before: 3)
            scratch[end] = 13
            scratch[end + 1] = 10
            appendPiece(UnsafeBufferPointer(rebasing: scratch[start..<(end + 2)]))
        }
    }

    package mutating func append(_ value: Int) { append(Int64(value)) }

    /// Appends constant arguments encoded up front, in one copy.
    package mutating func append(_ words: RedisEncodedWords) {
        appended += words.count
        bytes.append(contentsOf: words.bytes)
    }

    /// CR LF, byte by byte: an array literal here cost an object and a generic append per line.
    private mutating func appendLineEnd() {
        bytes.append(13)
        bytes.append(10)
    }

    /// The largest argument written through the stack scratch of `appendBulk`.
    private static let scratchPayload = 224

    private mutating func appendBulk(_ payload: UnsafeBufferPointer<UInt8>) {
        guard payload.count <= Self.scratchPayload else {
            appended += 1
            bytes.append(UInt8(ascii: "$"))
            RedisCommand.appendDecimal(Int64(payload.count), to: &bytes)
            appendLineEnd()
            bytes.append(contentsOf: payload)
            appendLineEnd()
            return
        }
        // The usual argument is short: header, payload and CR LF are put together on the stack
        // and appended in one copy (each `Array.append` costs ~90 instructions of checks).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.scratchPayload + 10) { scratch in
            // `$` and a length of up to three digits, then CR LF, fit before the payload at 8.
            let headerEnd = 8
            scratch[headerEnd - 2] = 13
            scratch[headerEnd - 1] = 10
            let start = Self.writeLengthBackwards(payload.count, into: scratch, before: headerEnd - 2)
            if let source = payload.baseAddress {
                (scratch.baseAddress! + headerEnd).update(from: source, count: payload.count)
            }
            let end = headerEnd + payload.count
            scratch[end] = 13
            scratch[end + 1] = 10
            appendPiece(UnsafeBufferPointer(rebasing: scratch[start..<(end + 2)]))
        }
    }

    /// Appends one argument's finished bytes.
    private mutating func appendPiece(_ piece: UnsafeBufferPointer<UInt8>) {
        appended += 1
        bytes.append(contentsOf: piece)
    }

    /// Writes `$<length>` so that it ends just before `index`; returns where it starts. The
    /// scratch has room for a length of up to three digits (scratch payloads are shorter).
    private static func writeLengthBackwards(
        _ length: Int, into scratch: UnsafeMutableBufferPointer<UInt8>, before index: Int
    ) -> Int {
        var index = index
        var remaining = length
        repeat {
            index -= 1
            scratch[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        } while remaining > 0
        index -= 1
        scratch[index] = UInt8(ascii: "$")
        return index
    }

    /// Writes `value` in decimal from `index` on; returns the index after it, and its length.
    private static func writeDecimal(
        _ value: Int64, into scratch: UnsafeMutableBufferPointer<UInt8>, at index: Int, count: inout Int
    ) -> Int {
        var magnitude = value.magnitude
        var reversed = index
        if value < 0 {
            scratch[reversed] = UInt8(ascii: "-")
            reversed += 1
        }
        let firstDigit = reversed
        repeat {
            scratch[reversed] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            reversed += 1
        } while magnitude > 0
        // Digits were written least significant first: turn them around.
        var low = firstDigit
        var high = reversed - 1
        while low < high {
            scratch.swapAt(low, high)
            low += 1
            high -= 1
        }
        count = reversed - index
        return reversed
    }

    /// The finished command; `name` is for logs and errors. Takes the encoder's bytes (it is
    /// empty afterwards), so adding the NUL does not copy them.
    package mutating func command(name: String) -> RedisCommand {
        precondition(appended == argumentCount, "\(name): \(appended) arguments written, \(argumentCount) announced")
        var terminated: [UInt8] = []
        swap(&terminated, &bytes)
        appended = 0
        terminated.append(0)
        return RedisCommand(terminated: terminated, name: name)
    }
}

/// Constant arguments of a hot command (`XADD`, `MAXLEN`, a field name), in RESP form once, so
/// that a command built per request copies them instead of encoding each again.
package struct RedisEncodedWords: Sendable {
    fileprivate let bytes: [UInt8]
    fileprivate let count: Int

    package init(_ words: String...) {
        var encoder = RedisCommandEncoder(argumentCount: words.count)
        for word in words { encoder.append(word) }
        // The encoder's bytes after its `*<count>` header line.
        let encoded = encoder.command(name: words.first ?? "").encoded
        bytes = Array(encoded[(encoded.firstIndex(of: 10)! + 1)...])
        count = words.count
    }
}

extension RedisCommand {
    /// The arguments read back from `encoded`, as text (binary arguments decoded as UTF-8,
    /// lossily): for tests and debugging that compare what was sent, never on a hot path.
    package var words: [String] {
        var words: [String] = []
        guard var index = encoded.firstIndex(of: 10).map({ $0 + 1 }) else { return words }
        while index < encoded.count, let lineEnd = encoded[index...].firstIndex(of: 13),
            let length = Int(String(decoding: encoded[(index + 1)..<lineEnd], as: UTF8.self))
        {
            let start = lineEnd + 2
            words.append(String(decoding: encoded[start..<(start + length)], as: UTF8.self))
            index = start + length + 2
        }
        return words
    }
}
