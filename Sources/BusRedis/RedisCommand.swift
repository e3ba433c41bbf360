/// One argument of a Redis command; binary-safe.
public enum RedisArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes([UInt8])
    case integer(Int64)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

/// A command encoded once, up front, in the Redis protocol (RESP), ready to hand to hiredis.
public struct RedisCommand: Sendable {
    /// The RESP bytes: `*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per argument.
    public let encoded: [UInt8]
    /// The command name, for logs and errors.
    public let name: String

    public init(_ arguments: RedisArgument...) {
        self.init(arguments)
    }

    public init(_ arguments: [RedisArgument]) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + arguments.count * 24)
        bytes.append(UInt8(ascii: "*"))
        Self.appendDecimal(Int64(arguments.count), to: &bytes)
        bytes.append(contentsOf: [13, 10])
        for argument in arguments {
            switch argument {
            case .string(let text):
                var text = text
                text.withUTF8 { Self.appendBulk($0, to: &bytes) }
            case .bytes(let raw):
                raw.withUnsafeBufferPointer { Self.appendBulk($0, to: &bytes) }
            case .integer(let value):
                bytes.append(UInt8(ascii: "$"))
                Self.appendDecimal(Int64(Self.decimalLength(value)), to: &bytes)
                bytes.append(contentsOf: [13, 10])
                Self.appendDecimal(value, to: &bytes)
                bytes.append(contentsOf: [13, 10])
            }
        }
        encoded = bytes
        if case .string(let first) = arguments[0] { name = first } else { name = "?" }
    }

    private static func appendBulk(_ payload: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "$"))
        appendDecimal(Int64(payload.count), to: &bytes)
        bytes.append(contentsOf: [13, 10])
        bytes.append(contentsOf: payload)
        bytes.append(contentsOf: [13, 10])
    }

    static func decimalLength(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }

    static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var reversed:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &reversed) { digits in
            repeat {
                digits[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(digits[index]) }
        }
    }
}
