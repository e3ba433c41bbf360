import BusJSON

/// An error answer of the HTTP API: status, stable snake_case code and a human message.
///
/// Services render it in one place as `{"error": {"code": …, "message": …}}`.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    /// Seconds for a `Retry-After` header (503s).
    public var retryAfter: Int?
    /// Extra response headers (`Allow` on 405, `ETag` on 412).
    public var headers: [HeaderField]

    public struct HeaderField: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, code: String, message: String, retryAfter: Int? = nil, headers: [HeaderField] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.headers = headers
    }

    /// The JSON body.
    public var body: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.field("code", code)
        writer.field("message", message)
        writer.endObject()
        writer.endObject()
        return writer.text
    }
}

extension APIError {
    public static func malformedJSON(_ message: String) -> APIError {
        APIError(status: 400, code: "malformed_json", message: message)
    }

    public static func missingField(_ field: String) -> APIError {
        APIError(status: 400, code: "missing_field", message: "\(field) is required")
    }

    public static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(status: 400, code: "invalid_field", message: message)
    }

    public static func notFound(path: String) -> APIError {
        APIError(status: 404, code: "not_found", message: "no route for \(path)")
    }

    public static func methodNotAllowed(_ method: String, allow: [String]) -> APIError {
        APIError(
            status: 405, code: "method_not_allowed",
            message: "\(method) is not allowed here; use \(allow.joined(separator: ", "))",
            headers: [HeaderField(name: "Allow", value: allow.joined(separator: ", "))])
    }

    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: "request body is larger than \(limit) bytes")
    }

    public static let unsupportedMediaType = APIError(
        status: 415, code: "unsupported_media_type", message: "Content-Type must be application/json")

    public static func internalError(_ message: String) -> APIError {
        APIError(status: 500, code: "internal_error", message: message)
    }
}
