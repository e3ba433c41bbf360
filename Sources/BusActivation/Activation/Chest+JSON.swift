import BusChests
import BusDomain
import BusJSON

extension Chest {
    /// The contract's JSON representation.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("biome_id", biome.value)
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

    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The representation as UTF-8 bytes, ready for a response body.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// The body of `GET …/chests`: `{"chests":[…]}` in the given order.
    public static func listJSONBytes(_ chests: [Chest]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("chests")
        writer.beginArray()
        for chest in chests { chest.write(to: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
