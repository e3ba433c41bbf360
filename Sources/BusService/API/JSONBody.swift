import BusJSON

/// Request bodies that must be one JSON object: the one place a body's parse failure becomes
/// the contract's 400 `malformed_json`.
package enum JSONBody {
    /// Parses a request body that must be one JSON object, or says why it is not.
    package static func object(from body: [UInt8]) -> Result<JSONValue, APIError> {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            return .failure(.malformedJSON("body is not valid JSON: \(error)"))
        }
        guard case .object = document else {
            return .failure(.malformedJSON("body must be a JSON object, not \(document.kindName)"))
        }
        return .success(document)
    }
}
