import Testing

@testable import BusRedis

@Suite("Redis error replies are parsed once into a code and a message")
struct RedisErrorParsingTests {
    @Test(
        "the codes callers act on",
        arguments: [
            ("BUSYGROUP Consumer Group name already exists", RedisErrorCode.busyGroup),
            (
                "NOGROUP No such key 'EVSTREAM:5' or consumer group 'treasure' in XREADGROUP with GROUP option",
                .noGroup
            ),
            ("OOM command not allowed when used memory > 'maxmemory'.", .outOfMemory),
            ("NOSCRIPT No matching script. Please use EVAL.", .noScript),
            ("READONLY You can't write against a read only replica.", .readOnly),
            ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", .masterDown),
            ("WRONGTYPE Operation against a key holding the wrong kind of value", .wrongType),
            ("ERR unknown command 'NOPE'", .generic),
        ])
    func codes(text: String, code: RedisErrorCode) {
        let error = RedisError(errorReply: text)
        #expect(error.serverCode == code)
        #expect(error.serverText == text)
        #expect(error.description == "Redis error: \(text)", "the description is the one logged before")
        if case .server(_, let message) = error {
            #expect(message == String(text.dropFirst(code.rawValue.count + 1)))
        } else {
            Issue.record("not a server error: \(error)")
        }
    }

    @Test("a reply that is only a code has an empty message")
    func codeOnly() {
        let error = RedisError(errorReply: "NOSCRIPT")
        #expect(error == .server(code: .noScript, message: ""))
        #expect(error.description == "Redis error: NOSCRIPT")
    }

    @Test("text without an upper-case code keeps the whole text as its message")
    func noCode() {
        let error = RedisError(errorReply: "user_script:1: oops")
        #expect(error == .server(code: RedisErrorCode(""), message: "user_script:1: oops"))
        #expect(error.description == "Redis error: user_script:1: oops")
        #expect(RedisError(errorReply: "").description == "Redis error: ")
    }

    @Test("only server errors have a code")
    func otherFailures() {
        #expect(RedisError.timedOut.serverCode == nil)
        #expect(RedisError.unexpectedReply("XADD answered no entry id").serverCode == nil)
        #expect(!RedisError(errorReply: "BUSYGROUP x").isOutOfMemory)
    }

    @Test("the encoder writes the same bytes as the argument list")
    func encoder() {
        var encoder = RedisCommandEncoder(argumentCount: 4)
        encoder.append("SET")
        encoder.append("ké y")
        encoder.append(Int64(-42))
        encoder.append(bytes: [0, 13, 10])
        let direct = encoder.command(name: "SET")
        let listed = RedisCommand("SET", "ké y", .integer(-42), .bytes([0, 13, 10]))
        #expect(direct.encoded == listed.encoded)
        #expect(direct.name == "SET")
        #expect(String(decoding: direct.encoded.prefix(4), as: UTF8.self) == "*4\r\n")
    }

    @Test("words encoded up front count as their arguments and write the same bytes")
    func encodedWords() {
        var encoder = RedisCommandEncoder(argumentCount: 5)
        encoder.append(RedisEncodedWords("XADD"))
        encoder.append("s")
        encoder.append(RedisEncodedWords("MAXLEN", "~"))
        encoder.append(Int64(1000))
        let command = encoder.command(name: "XADD")
        #expect(command.encoded == RedisCommand("XADD", "s", "MAXLEN", "~", 1000).encoded)
    }

    @Test("the encoder writes RESP: lengths, negative and large integers, empty and long arguments")
    func respBytes() {
        let long = String(repeating: "x", count: 1000)
        var encoder = RedisCommandEncoder(argumentCount: 7, capacity: 8)
        encoder.append("SET")
        encoder.append("")
        encoder.append(Int64(-42))
        encoder.append(Int64.min)
        encoder.append(0)
        encoder.append(bytes: [0, 13, 10])
        encoder.append(long)
        let expected =
            "*7\r\n$3\r\nSET\r\n$0\r\n\r\n$3\r\n-42\r\n$20\r\n-9223372036854775808\r\n$1\r\n0\r\n$3\r\n\u{0}\r\n\r\n"
            + "$1000\r\n\(long)\r\n"
        let command = encoder.command(name: "SET")
        #expect(command.encoded == Array(expected.utf8))
        #expect(command.terminated.last == 0)
        #expect(command.terminated.count == expected.utf8.count + 1)
    }
}
