import CHiredis

/// A reply from Redis, copied out of hiredis's reply tree.
package indirect enum RedisReply: Sendable, Equatable {
    case status(String)
    /// An error nested in an array (a top-level error reply arrives as `RedisError.server(code:message:)`).
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// Bulk or status text as a String.
    package var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    package var integer: Int64? {
        if case .integer(let value) = self { return value }
        if case .bulk = self, let text = string { return Int64(text) }
        return nil
    }

    package var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// An array of alternating names and values (XINFO rows, stream entry fields) as a
    /// dictionary; later duplicates win.
    package var fieldMap: [String: RedisReply] {
        guard let flat = array else { return [:] }
        var fields: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string { fields[name] = flat[index + 1] }
            index += 2
        }
        return fields
    }
}

extension RedisReply {
    /// Copies a hiredis reply. The caller keeps ownership; hiredis frees it after the callback.
    init(_ reply: UnsafePointer<redisReply>) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            self = .bulk(Self.bytes(value))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(value), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(value), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] {
                    elements.append(RedisReply(element))
                } else {
                    elements.append(.null)
                }
            }
            self = .array(elements)
        default:
            self = .null
        }
    }

    private static func bytes(_ value: redisReply) -> [UInt8] {
        guard let text = value.str, value.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: text, count: Int(value.len)))
    }
}
