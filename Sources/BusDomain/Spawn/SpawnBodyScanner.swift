import BusJSON

/// Reads the body game servers actually send to `POST /v1/spawn` in one pass over its bytes,
/// without building a JSON tree: an object of exactly the known members (`biome_id`, `type`,
/// `coords`, optional `chest_id`), each once, in any order, with plain values (an integer biome,
/// identifier strings without escapes, decimals without exponents).
///
/// It answers only what it can answer exactly as the full decoder (the JSON parser, then the
/// field rules) would: an event equal to the full decoder's, or nil for anything else, valid or
/// not, which then takes the full path. So every error a client can see still comes from one
/// place, and the two paths cannot disagree on an accepted event (the spawn fuzz target checks
/// that on every input). The full path built ~9k instructions of `JSONValue`s and `String`s per
/// spawn to read four members.
package enum SpawnBodyScanner {
    /// The event `body` holds, when it has the plain form; nil otherwise.
    package static func event(in body: [UInt8]) -> SpawnEvent? {
        body.withUnsafeBufferPointer { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.event()
        }
    }

    /// The longest coordinates text the scanner writes: three numbers of at most 15 significant
    /// digits, with sign, point and up to three zeros after `0.`, plus the brackets and commas.
    private static let coordinatesCapacity = 80

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func event() -> SpawnEvent? {
            var biome: BiomeID?
            var type: String?
            var coordinatesText: String?
            var chestID: String??
            skipWhitespace()
            guard take(UInt8(ascii: "{")) else { return nil }
            repeat {
                skipWhitespace()
                guard let name = quoted() else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                // A repeated member is a duplicate key, which the parser refuses: not ours to answer.
                switch Member(name) {
                case .biome where biome == nil:
                    guard let value = biomeID() else { return nil }
                    biome = value
                case .type where type == nil:
                    guard let value = quoted(), (1...32).contains(value.count), value.allSatisfy(Identifiers.isTypeByte)
                    else { return nil }
                    type = Self.string(value)
                case .coordinates where coordinatesText == nil:
                    guard let value = coordinates() else { return nil }
                    coordinatesText = value
                case .chestID where chestID == nil:
                    if take(literal: "null") {
                        chestID = .some(nil)
                    } else {
                        guard let value = quoted(), (1...64).contains(value.count),
                            value.allSatisfy(Identifiers.isIDByte)
                        else { return nil }
                        chestID = Self.string(value)
                    }
                default:
                    return nil
                }
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
            skipWhitespace()
            guard position == bytes.count, let biome, let type, let coordinatesText else { return nil }
            return SpawnEvent(biome: biome, type: type, coordinatesText: coordinatesText, chestID: chestID ?? nil)
        }

        private enum Member {
            case biome, type, coordinates, chestID, other

            init(_ name: UnsafeBufferPointer<UInt8>) {
                // By length first: each known name is one compare away.
                switch name.count {
                case 8 where Self.equals(name, "biome_id"): self = .biome
                case 8 where Self.equals(name, "chest_id"): self = .chestID
                case 4 where Self.equals(name, "type"): self = .type
                case 6 where Self.equals(name, "coords"): self = .coordinates
                default: self = .other
                }
            }

            /// `name` has `known`'s length.
            private static func equals(_ name: UnsafeBufferPointer<UInt8>, _ known: StaticString) -> Bool {
                let start = known.utf8Start
                for index in 0..<name.count where name[index] != start[index] { return false }
                return true
            }
        }

        /// `0` … `2147483647` as digits alone (no sign, fraction or exponent).
        private mutating func biomeID() -> BiomeID? {
            let start = position
            while position < bytes.count, Self.isDigit(bytes[position]), position - start <= 10 { position += 1 }
            let digits = position - start
            guard digits > 0, digits <= 10, bytes[start] != UInt8(ascii: "0") || digits == 1, !atNumberContinuation
            else { return nil }
            var value: Int64 = 0
            for index in start..<position { value = value * 10 + Int64(bytes[index] &- UInt8(ascii: "0")) }
            return BiomeID(value)
        }

        /// Two or three plain decimals, written as the full decoder writes them.
        private mutating func coordinates() -> String? {
            guard take(UInt8(ascii: "[")) else { return nil }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: SpawnBodyScanner.coordinatesCapacity) {
                text -> String? in
                text[0] = UInt8(ascii: "[")
                var length = 1
                var count = 0
                repeat {
                    skipWhitespace()
                    guard count < 3, let literal = decimal(), let range = JSONWriter.compactRange(ofLiteral: literal)
                    else { return nil }
                    let part = UnsafeBufferPointer(rebasing: literal[range])
                    // A comma before, room for the bracket after.
                    guard length + part.count + 2 <= text.count else { return nil }
                    if count > 0 {
                        text[length] = UInt8(ascii: ",")
                        length += 1
                    }
                    (text.baseAddress! + length).update(from: part.baseAddress!, count: part.count)
                    length += part.count
                    count += 1
                    skipWhitespace()
                } while take(UInt8(ascii: ","))
                guard count >= 2, take(UInt8(ascii: "]")) else { return nil }
                text[length] = UInt8(ascii: "]")
                return String(decoding: UnsafeBufferPointer(rebasing: text[0...length]), as: UTF8.self)
            }
        }

        /// A JSON number without an exponent: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
        private mutating func decimal() -> UnsafeBufferPointer<UInt8>? {
            let start = position
            _ = take(UInt8(ascii: "-"))
            let integerStart = position
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
            let integerDigits = position - integerStart
            guard integerDigits > 0, bytes[integerStart] != UInt8(ascii: "0") || integerDigits == 1 else { return nil }
            if take(UInt8(ascii: ".")) {
                let fractionStart = position
                while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
                guard position > fractionStart else { return nil }
            }
            guard !atNumberContinuation else { return nil }
            return UnsafeBufferPointer(rebasing: bytes[start..<position])
        }

        /// Whether the number just read goes on (a digit after a leading zero, a fraction, an
        /// exponent): then it is not the plain form.
        private var atNumberContinuation: Bool {
            guard position < bytes.count else { return false }
            let byte = bytes[position]
            return Self.isDigit(byte) || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
        }

        /// A string's bytes when it has no escapes and only printable ASCII (so its bytes are its text).
        private mutating func quoted() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)])
                }
                guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
                position += 1
            }
            return nil
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        private mutating func take(literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - position >= count else { return false }
            for index in 0..<count where bytes[position + index] != literal.utf8Start[index] { return false }
            position += count
            return true
        }

        private mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x0A, 0x0D, 0x09: position += 1
                default: return
                }
            }
        }

        private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

        /// Text of bytes checked to be ASCII.
        private static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
            String(decoding: bytes, as: UTF8.self)
        }
    }
}
