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

    /// The representation as UTF-8 bytes, ready for a response body: what `write(to:)` writes,
    /// its fixed parts copied as precomputed bytes (a `JSONWriter` member costs its separator,
    /// quotes and colon one append each: ~2k instructions per activation, bench/instructions).
    package var jsonBytes: [UInt8] {
        typealias Parts = ChestJSONParts
        // A chest is ~150 bytes.
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: Parts.biomeID)
        JSONWriter.appendDecimal(Int64(biome.value), to: &out)
        out.append(contentsOf: Parts.chestID)
        JSONWriter.appendQuoted(chestID, to: &out)
        out.append(contentsOf: Parts.type)
        JSONWriter.appendQuoted(type, to: &out)
        out.append(contentsOf: Parts.coords)
        var coordinates = coordinatesJSON
        coordinates.withUTF8 { out.append(contentsOf: $0) }
        out.append(contentsOf: Parts.state)
        JSONWriter.appendQuoted(state.rawValue, to: &out)
        out.append(contentsOf: Parts.version)
        JSONWriter.appendDecimal(version, to: &out)
        if let activatedBy {
            out.append(contentsOf: Parts.activatedBy)
            JSONWriter.appendQuoted(activatedBy, to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(contentsOf: Parts.notActivated)
        }
        return out
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

/// The fixed bytes between a chest's values, in `write(to:)`'s order.
private enum ChestJSONParts {
    static let biomeID = Array(#"{"biome_id":"#.utf8)
    static let chestID = Array(#","chest_id":"#.utf8)
    static let type = Array(#","type":"#.utf8)
    static let coords = Array(#","coords":"#.utf8)
    static let state = Array(#","state":"#.utf8)
    static let version = Array(#","version":"#.utf8)
    static let activatedBy = Array(#","activated_by":"#.utf8)
    static let notActivated = Array(#","activated_by":null}"#.utf8)
}
