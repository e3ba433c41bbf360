import Testing

@testable import BusJSON

@Suite("JSONParser")
struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test("parses every kind of value and keeps number literals")
    func values() throws {
        let value = try parse(#" {"a": [1, -2.5, 3e2, true, false, null, "x\n\u00e9\ud83d\ude00"], "b": {}} "#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["a", "b"])
        guard case .array(let elements) = value["a"] else {
            Issue.record("not an array")
            return
        }
        #expect(elements[0] == .number(JSONNumber(literal: "1", isIntegerLiteral: true)))
        #expect(elements[1] == .number(JSONNumber(literal: "-2.5", isIntegerLiteral: false)))
        #expect(elements[2] == .number(JSONNumber(literal: "3e2", isIntegerLiteral: false)))
        #expect(elements[3] == .bool(true))
        #expect(elements[5] == .null)
        #expect(elements[6] == .string("x\né😀"))
        #expect(value["b"] == .object([]))
    }

    @Test(
        "rejects malformed text",
        arguments: [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "tru", "nul",
            "\"abc", "\"\\x\"", "\"\\ud800\"", "{\"a\" 1}", "{a: 1}", "[1 2]", "1 2", "\"tab\there\"",
            "{\"a\":1,\"a\":2}",
        ])
    func malformed(_ text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try parse(text) }
    }

    @Test("rejects invalid UTF-8 inside and outside strings")
    func invalidUTF8() {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0xFF]) }
    }

    @Test("limits nesting depth")
    func depth() throws {
        _ = try parse(String(repeating: "[", count: 63) + String(repeating: "]", count: 63))
        #expect(throws: JSONParser.SyntaxError.self) {
            try parse(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        }
    }

    @Test("JSONWriter escapes strings and writes compact numbers")
    func writer() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("s", "a\"b\\c\n\u{1}")
        writer.key("n")
        writer.beginArray()
        writer.number(2.0)
        writer.number(1.5)
        writer.number(-0.25)
        writer.number(1e21)
        writer.endArray()
        writer.field("i", 7)
        writer.endObject()
        #expect(writer.text == #"{"s":"a\"b\\c\n\u0001","n":[2,1.5,-0.25,1e+21],"i":7}"#)
    }

    @Test("literal member names write what String names write, commas and all; raw JSON copied as is")
    func literalNames() {
        var literal = JSONWriter(capacity: 8)
        var plain = JSONWriter()
        literal.beginObject()
        plain.beginObject()
        literal.field(literal: "chest_id", "c-1")
        plain.field("chest_id", "c-1")
        literal.field(literal: "version", Int64(-3))
        plain.field("version", Int64(-3))
        literal.key(literal: "coords")
        plain.key("coords")
        literal.raw(#"{"x":1}"#)
        plain.raw(#"{"x":1}"#)
        literal.key(literal: "activated_by")
        plain.key("activated_by")
        literal.null()
        plain.null()
        literal.endObject()
        plain.endObject()
        #expect(literal.text == #"{"chest_id":"c-1","version":-3,"coords":{"x":1},"activated_by":null}"#)
        #expect(literal.bytes == plain.bytes)
    }

    /// `{"k0":0,"k1":0,...}` with `count` distinct keys, then `extra` appended as members.
    private func wideObject(count: Int, extra: [String] = []) -> String {
        let members = (0..<count).map { "\"k\($0)\":0" } + extra.map { "\"\($0)\":1" }
        return "{" + members.joined(separator: ",") + "}"
    }

    @Test(
        "duplicate keys are rejected at every size, on both sides of the hash-set threshold",
        arguments: [1, 2, 4, 15, 16, 17, 40, 2300])
    func duplicatesAtAnySize(count: Int) throws {
        let distinct = try parse(wideObject(count: count))
        guard case .object(let members) = distinct else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == count)
        // A repeat of the first, the middle and the last key, each right after all the others.
        for repeated in Set([0, count / 2, count - 1]) {
            #expect(throws: JSONParser.SyntaxError.self, "key k\(repeated) of \(count)") {
                try parse(wideObject(count: count, extra: ["k\(repeated)"]))
            }
        }
        // A duplicate inside the first members, with many distinct keys after it.
        #expect(throws: JSONParser.SyntaxError.self) {
            try parse(#"{"a":1,"a":2,"# + wideObject(count: count).dropFirst())
        }
    }

    @Test("canonically equivalent keys count as duplicates in small and large objects alike")
    func equivalentKeys() {
        for count in [0, 100] {
            #expect(throws: JSONParser.SyntaxError.self) {
                try parse(wideObject(count: count, extra: ["\u{e9}", "e\u{301}"]))
            }
        }
    }
}
