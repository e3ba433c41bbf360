import BusConfigFile
import Testing
import Yams

@Suite("Strict YAML config-file access")
struct ConfigFileReaderTests {
    let reader = ConfigFileReader(file: "conf/x.yaml")

    /// The thrown error, or nil (recorded as an issue) when `body` succeeds.
    func failure<T>(_ body: () throws(ConfigFileError) -> T) -> ConfigFileError? {
        do {
            let value = try body()
            Issue.record("accepted: \(value)")
            return nil
        } catch {
            return error
        }
    }

    func root(_ text: String) throws -> Node {
        try reader.root(of: text)
    }

    @Test("the description is `file: key: message`, or `file: message` for the whole file")
    func description() {
        #expect(
            ConfigFileError(file: "a.yaml", key: "stream.maxlen", message: "m").description
                == "a.yaml: stream.maxlen: m")
        #expect(
            ConfigFileError(file: "a.yaml", key: "", message: "file is empty").description == "a.yaml: file is empty")
    }

    @Test("an empty file and text that is not YAML are errors of the whole file")
    func rootErrors() {
        #expect(
            failure { () throws(ConfigFileError) in try reader.root(of: "") }?.description
                == "conf/x.yaml: file is empty")
        let invalid = failure { () throws(ConfigFileError) in try reader.root(of: "a: [1, 2\n") }
        #expect(
            invalid?.key == "" && invalid?.message.hasPrefix("not valid YAML: ") == true,
            "\(String(describing: invalid))")
    }

    @Test("a key given twice in the text is refused by the YAML parser, naming the file and the key")
    func duplicateKeyInText() {
        let error = failure { () throws(ConfigFileError) in try reader.root(of: "name: a\nname: b\n") }
        #expect(error?.description.hasPrefix("conf/x.yaml: not valid YAML: ") == true)
        #expect(error?.description.contains("'name'") == true, "\(String(describing: error))")
    }

    @Test("an unknown key names its dotted path and line, and lists the allowed keys sorted")
    func unknownKey() throws {
        let node = try root("stream:\n  maxlen: 5\n  depth: 2\n")
        let top = try reader.mapping(node, key: "", allowed: ["stream"])
        let stream = try #require(top["stream"])
        let error = failure { () throws(ConfigFileError) in
            try reader.mapping(stream, key: "stream", allowed: ["maxlen", "durability", "memory_high_water"])
        }
        #expect(
            error?.description
                == "conf/x.yaml: stream.depth: unknown key (expected one of: durability, maxlen, memory_high_water) (line 3)"
        )
        // At the root the key stands alone.
        let rootError = failure { () throws(ConfigFileError) in try reader.mapping(node, key: "", allowed: ["name"]) }
        #expect(rootError?.key == "stream")
    }

    @Test("a key the mapping holds twice is refused, naming the dotted key")
    func duplicateKeyInMapping() {
        // Yams's parser already refuses this in text; a tree built in code still reaches the check.
        let node = Node.mapping(Node.Mapping([(Node("a"), Node("1", Tag(.int))), (Node("a"), Node("2", Tag(.int)))]))
        let error = failure { () throws(ConfigFileError) in try reader.mapping(node, key: "top", allowed: ["a"]) }
        #expect(error?.key == "top.a" && error?.message == "key appears twice", "\(String(describing: error))")
    }

    @Test("a mapping is expected where one is read; keys must be plain strings")
    func notAMapping() throws {
        let list = try root("- 1\n- 2\n")
        #expect(
            failure { () throws(ConfigFileError) in try reader.mapping(list, key: "consumer", allowed: []) }?
                .description == "conf/x.yaml: consumer: expected a mapping of keys (line 1)")
        let complexKey = try root("? [a, b]\n: 1\n")
        #expect(
            failure { () throws(ConfigFileError) in try reader.mapping(complexKey, key: "", allowed: []) }?.message
                == "keys must be plain strings (line 1)")
    }

    @Test("strings: required, and only a scalar that resolves to a string (12, true, null are not)")
    func strings() throws {
        let map = try reader.mapping(
            try root("a: text\nb: 12\nc: true\nd: null\ne: \"12\"\n"), key: "", allowed: ["a", "b", "c", "d", "e"])
        #expect(try reader.string(map["a"], key: "a") == "text")
        #expect(try reader.string(map["e"], key: "e") == "12")
        for key in ["b", "c", "d"] {
            #expect(
                failure { () throws(ConfigFileError) in try reader.string(map[key], key: key) }?.message.hasPrefix(
                    "expected a string (line ") == true)
        }
        #expect(
            failure { () throws(ConfigFileError) in try reader.string(nil, key: "name") }?.description
                == "conf/x.yaml: name: required key is missing")
        #expect(try reader.optionalString(map["d"], key: "d") == nil)
        #expect(try reader.optionalString(nil, key: "z") == nil)
        #expect(failure { () throws(ConfigFileError) in try reader.optionalString(map["b"], key: "b") }?.key == "b")
    }

    @Test("integers: a wrong type names the range and the line; out of range also says what was given")
    func integers() throws {
        let map = try reader.mapping(
            try root("ok: 7\nquoted: \"7\"\nfloat: 1.5\nbig: 11\n"), key: "n",
            allowed: ["ok", "quoted", "float", "big"])
        #expect(try reader.int(map["ok"], key: "n.ok", range: 1...10) == 7)
        #expect(try reader.int(nil, key: "n.absent", range: 1...10) == nil)
        #expect(
            failure { () throws(ConfigFileError) in try reader.int(map["quoted"], key: "n.quoted", range: 1...10) }?
                .description == "conf/x.yaml: n.quoted: expected an integer from 1 to 10 (line 2)")
        #expect(
            failure { () throws(ConfigFileError) in try reader.int(map["float"], key: "n.float", range: 1...10) }?
                .message == "expected an integer from 1 to 10 (line 3)")
        #expect(
            failure { () throws(ConfigFileError) in try reader.int(map["big"], key: "n.big", range: 1...10) }?
                .description == "conf/x.yaml: n.big: expected an integer from 1 to 10, got 11 (line 4)")
        // Not checking the range still checks the type.
        #expect(try reader.int(map["big"], key: "n.big", range: 1...10, checksRange: false) == 11)
        #expect(
            failure { () throws(ConfigFileError) in
                try reader.int(map["quoted"], key: "n.quoted", range: 1...10, checksRange: false)
            }?.key == "n.quoted")
    }

    @Test("numbers: integers count, text and infinity do not; out of range says what was given")
    func numbers() throws {
        let map = try reader.mapping(
            try root("a: 0.5\nb: 1\nc: high\nd: .inf\ne: 1.5\n"), key: "", allowed: ["a", "b", "c", "d", "e"])
        #expect(try reader.double(map["a"], key: "a", range: 0...1) == 0.5)
        #expect(try reader.double(map["b"], key: "b", range: 0...1) == 1.0)
        #expect(try reader.double(nil, key: "z", range: 0...1) == nil)
        #expect(
            failure { () throws(ConfigFileError) in try reader.double(map["c"], key: "c", range: 0...1) }?.message
                == "expected a number from 0.0 to 1.0 (line 3)")
        #expect(
            failure { () throws(ConfigFileError) in try reader.double(map["d"], key: "d", range: 0...1) }?.message
                == "expected a number from 0.0 to 1.0 (line 4)")
        #expect(
            failure { () throws(ConfigFileError) in try reader.double(map["e"], key: "e", range: 0...1) }?.message
                == "expected a number from 0.0 to 1.0, got 1.5 (line 5)")
        #expect(try reader.double(map["e"], key: "e", range: 0...1, checksRange: false) == 1.5)
    }

    @Test("an error built by the caller carries the node's line")
    func callerErrors() throws {
        let node = try root("a: 1\nb: 2\n")
        let map = try reader.mapping(node, key: "", allowed: ["a", "b"])
        #expect(reader.error("b", "too big", map["b"]).description == "conf/x.yaml: b: too big (line 2)")
        #expect(reader.error("b", "too big").description == "conf/x.yaml: b: too big")
    }
}
