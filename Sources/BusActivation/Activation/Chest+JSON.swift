import BusChests
import BusDomain
import BusJSON

extension Chest {
    /// The contract's JSON representation.
    package func write(to writer: inout JSONWriter) {
        writer.beginObject()
        // Names as literals: copied without the scan for characters to escape.
        writer.field(literal: "biome_id", Int64(biome.value))
        writer.field(literal: "chest_id", chestID)
        writer.field(literal: "type", type)
        writer.key(literal: "coords")
        writer.raw(coordinatesJSON)
        writer.field(literal: "state", state.rawValue)
        writer.field(literal: "version", version)
        writer.key(literal: "activated_by")
        if let activatedBy { writer.string(activatedBy) } else { writer.null() }
        writer.endObject()
    }

    package var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The representation as UTF-8 bytes, ready for a response body.
    package var jsonBytes: [UInt8] {
        // A chest is ~150 bytes; the default 128 grew (and copied) once per chest.
        var writer = JSONWriter(capacity: 256)
        write(to: &writer)
        return writer.bytes
    }

    /// The body of `GET …/chests`: `{"chests":[…]}` in the given order.
    package static func listJSONBytes(_ chests: [Chest]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("chests")
        writer.beginArray()
        for chest in chests { chest.write(to: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// `object` (a compact JSON object) with one more string member at its end. A receipt is
    /// base64url and dots, so the value needs no escaping beyond what the writer does.
    static func appendingMember(_ name: String, _ value: String, to object: [UInt8]) -> [UInt8] {
        precondition(object.last == UInt8(ascii: "}"), "not a JSON object")
        var member = JSONWriter()
        member.beginObject()
        member.field(name, value)
        member.endObject()
        // Drop the object's `}` and the member's `{`, joined by a comma.
        return object.dropLast() + [UInt8(ascii: ",")] + member.bytes.dropFirst()
    }
}
