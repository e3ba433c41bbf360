import BusDomain
import BusJSON
import BusService

extension SpawnEvent {
    /// Validates a `POST /v1/spawn` body. Unknown members are ignored; `chest_id: null`
    /// counts as absent. Errors name the offending field.
    package static func decode(body: [UInt8]) -> Result<SpawnEvent, APIError> {
        // The plain form is read without a JSON tree; anything else is judged by the full path.
        if let event = SpawnBodyScanner.event(in: body) { return .success(event) }
        return decodeParsing(body: body)
    }

    /// `decode(body:)` through the JSON parser and the field rules alone: the judge of every body
    /// the scanner does not read (and, in the spawn fuzz target, of the ones it does).
    package static func decodeParsing(body: [UInt8]) -> Result<SpawnEvent, APIError> {
        switch JSONBody.object(from: body) {
        case .success(let object): decode(object: object)
        case .failure(let error): .failure(error)
        }
    }

    /// Validates one spawn given as a parsed JSON object (a single spawn's body, or one event
    /// of a batch), with the same rules and messages.
    package static func decode(object document: JSONValue) -> Result<SpawnEvent, APIError> {
        // One pass over the members (keys are unique): four lookups by key cost a scan and a
        // copy of the value each.
        var biomeValue: JSONValue?
        var typeValue: JSONValue?
        var coordinatesValue: JSONValue?
        var chestIDValue: JSONValue?
        if case .object(let members) = document {
            for member in members {
                switch member.key {
                case "biome_id": biomeValue = member.value
                case "type": typeValue = member.value
                case "coords": coordinatesValue = member.value
                case "chest_id": chestIDValue = member.value
                default: continue
                }
            }
        }
        do {
            return .success(
                SpawnEvent(
                    biome: try biome(biomeValue), type: try type(typeValue),
                    coordinatesText: try coordinatesText(coordinatesValue), chestID: try chestID(chestIDValue)))
        } catch {
            return .failure(error)
        }
    }

    private static func biome(_ value: JSONValue?) throws(APIError) -> BiomeID {
        guard let value else { throw .missingField("biome_id") }
        guard case .number(let number) = value, number.isIntegerLiteral else {
            throw .invalidField(
                "biome_id", "biome_id must be a JSON integer from 0 to 2147483647, not \(describe(value))")
        }
        guard let raw = number.int64, let biome = BiomeID(raw) else {
            throw .invalidField("biome_id", "biome_id must be from 0 to 2147483647, not \(number.literal)")
        }
        return biome
    }

    private static func type(_ value: JSONValue?) throws(APIError) -> String {
        guard let value else { throw .missingField("type") }
        guard case .string(let text) = value, Identifiers.isValidType(text) else {
            throw .invalidField(
                "type", "type must be a string of 1 to 32 characters from [a-z0-9_-], not \(describe(value))")
        }
        return text
    }

    /// The coordinates as compact JSON text, written from the literals without a Double round
    /// trip where that gives the same text (`JSONWriter.number(_: JSONNumber)`).
    private static func coordinatesText(_ value: JSONValue?) throws(APIError) -> String {
        guard let value else { throw .missingField("coords") }
        guard case .array(let elements) = value, (2...3).contains(elements.count) else {
            throw .invalidField("coords", "coords must be an array of 2 or 3 numbers, not \(describe(value))")
        }
        var text = JSONWriter()
        text.beginArray()
        for element in elements {
            guard case .number(let number) = element else {
                throw .invalidField("coords", "coords must hold only numbers, not \(describe(element))")
            }
            guard number.isFinite else {
                throw .invalidField("coords", "coords must be finite numbers, not \(number.literal)")
            }
            text.number(number)
        }
        text.endArray()
        return text.text
    }

    private static func chestID(_ value: JSONValue?) throws(APIError) -> String? {
        guard let value, value != .null else { return nil }
        guard case .string(let text) = value, Identifiers.isValidChestID(text) else {
            throw .invalidField(
                "chest_id",
                "chest_id must be a string of 1 to 64 characters from [A-Za-z0-9_.:-], not \(describe(value))")
        }
        return text
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): number.literal
        case .string(let text) where text.count <= 40:
            "\"\(text)\""
        default: value.kindName
        }
    }
}
