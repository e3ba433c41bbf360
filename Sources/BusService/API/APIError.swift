import BusJSON

/// An error answer of the HTTP API: status, stable snake_case code and a human message.
///
/// Services render it in one place as `{"error": {"code": …, "message": …}}`.
package struct APIError: Error, Sendable, Equatable {
    package var status: Int
    package var code: String
    package var message: String
    /// Seconds for a `Retry-After` header (503s).
    package var retryAfter: Int?
    /// Extra response headers (`Allow` on 405, `ETag` on 412).
    package var headers: [HeaderField]

    package struct HeaderField: Sendable, Equatable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package init(status: Int, code: String, message: String, retryAfter: Int? = nil, headers: [HeaderField] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.headers = headers
    }

    /// The JSON body.
    package var body: String {
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
    package static func malformedJSON(_ message: String) -> APIError {
        APIError(status: 400, code: "malformed_json", message: message)
    }

    package static func missingField(_ field: String) -> APIError {
        APIError(status: 400, code: "missing_field", message: "\(field) is required")
    }

    package static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(status: 400, code: "invalid_field", message: message)
    }

    package static func notFound(path: String) -> APIError {
        APIError(status: 404, code: "not_found", message: "no route for \(path)")
    }

    package static func methodNotAllowed(_ method: String, allow: [String]) -> APIError {
        APIError(
            status: 405, code: "method_not_allowed",
            message: "\(method) is not allowed here; use \(allow.joined(separator: ", "))",
            headers: [HeaderField(name: "Allow", value: allow.joined(separator: ", "))])
    }

    package static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: "request body is larger than \(limit) bytes")
    }

    package static let unsupportedMediaType = APIError(
        status: 415, code: "unsupported_media_type", message: "Content-Type must be application/json")

    package static func internalError(_ message: String) -> APIError {
        APIError(status: 500, code: "internal_error", message: message)
    }
}
