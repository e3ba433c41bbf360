/// What an `Authorization` header holds, for the Bearer scheme (RFC 6750 §2.1):
/// `Bearer 1*SP b64token`, the scheme name in any case.
package enum BearerCredentials: Sendable, Equatable {
    /// No `Authorization` header, or one of another scheme: no bearer credentials at all
    /// (RFC 6750 §3: the challenge carries no error code).
    case absent
    /// A Bearer header whose token is empty or not a b64token.
    case malformed
    /// The token, as sent.
    case token(String)

    /// Reads the value of the request's `Authorization` header (nil: no header).
    package init(authorization: String?) {
        guard let value = authorization else {
            self = .absent
            return
        }
        let bytes = Array(value.utf8)
        let scheme = bytes.prefix { $0 != UInt8(ascii: " ") }
        guard String(decoding: scheme, as: UTF8.self).lowercased() == "bearer" else {
            self = .absent
            return
        }
        let afterScheme = bytes.dropFirst(scheme.count)
        let token = afterScheme.drop { $0 == UInt8(ascii: " ") }
        guard token.count < afterScheme.count, Self.isB64Token(token) else {
            self = .malformed
            return
        }
        self = .token(String(decoding: token, as: UTF8.self))
    }

    /// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
    static func isB64Token(_ bytes: ArraySlice<UInt8>) -> Bool {
        let body = bytes.prefix { $0 != UInt8(ascii: "=") }
        guard !body.isEmpty, bytes.dropFirst(body.count).allSatisfy({ $0 == UInt8(ascii: "=") }) else {
            return false
        }
        return body.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                true
            default: false
            }
        }
    }
}
