import BusChests
import BusDomain
import BusJSON

extension Chest {
    /// The contract's JSON representation.
    package func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("biome_id", Int64(biome.value))
        writer.field("chest_id", chestID)
        writer.field("type", type)
        writer.key("coords")
        writer.raw(coordinatesJSON)
        writer.field("state", state.rawValue)
        writer.field("version", version)
        writer.key("activated_by")
        if let activatedBy { writer.string(activatedBy) } else { writer.null() }
        writer.endObject()
    }

    package var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The representation as UTF-8 bytes, ready for a response body.
    package var jsonBytes: [UInt8] {
        var writer = JSONWriter()
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
