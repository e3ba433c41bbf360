import BusDomain
import BusJSON
import BusService

extension IdempotencyKey {
    /// The request header carrying a single spawn's key.
    package static let headerName = "Idempotency-Key"

    /// The key of a `POST /v1/spawn` request: nil without the header, 400 `invalid_field`
    /// naming the header when its value breaks the rule (an empty value included).
    package static func fromHeader(_ value: String?) -> Result<IdempotencyKey?, APIError> {
        guard let value else { return .success(nil) }
        guard let key = IdempotencyKey(value) else {
            return .failure(
                .invalidField(
                    headerName,
                    "\(headerName) must be 1 to 255 printable ASCII characters, not \(describe(value))"))
        }
        return .success(key)
    }

    /// The key of one batch event: its `idempotency_key` member (absent or null: none).
    static func fromEventMember(_ value: JSONValue?) -> Result<IdempotencyKey?, APIError> {
        guard let value, value != .null else { return .success(nil) }
        guard case .string(let text) = value, let key = IdempotencyKey(text) else {
            let shown: String
            if case .string(let text) = value { shown = describe(text) } else { shown = value.kindName }
            return .failure(
                .invalidField(
                    "idempotency_key",
                    "idempotency_key must be a string of 1 to 255 printable ASCII characters, not \(shown)"
                ))
        }
        return .success(key)
    }

    private static func describe(_ text: String) -> String {
        if text.isEmpty { return "an empty value" }
        if text.utf8.count > maxLength { return "\(text.utf8.count) characters" }
        return "a value with a character outside 0x20 … 0x7E"
    }
}

extension APIError {
    /// The key was first used with another spawn: nothing was written.
    package static func idempotencyKeyReused(_ key: IdempotencyKey) -> APIError {
        APIError(
            status: 422, code: "idempotency_key_reused",
            message: "idempotency key \"\(key.text)\" was already used with a different spawn in this biome")
    }
}
