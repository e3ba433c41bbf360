import Testing

@testable import BusRedis

@Suite("Redis client: RESP encoding and connection life cycle")
struct RedisClientUnitTests {
    @Test("commands encode as RESP arrays of bulk strings, binary-safe")
    func encoding() {
        let command = RedisCommand("XADD", .string("EVSTREAM:53"), .integer(-12), .bytes([0, 13, 10, 255]))
        let expected = "*4\r\n$4\r\nXADD\r\n$11\r\nEVSTREAM:53\r\n$3\r\n-12\r\n$4\r\n".utf8 + [0, 13, 10, 255, 13, 10]
        #expect(command.encoded == Array(expected))
        #expect(command.name == "XADD")
        #expect(RedisCommand("PING").encoded == Array("*1\r\n$4\r\nPING\r\n".utf8))
        #expect(RedisCommand("X", .integer(Int64.min)).encoded.count > 0)
    }

    @Test("integers encode as their decimal text, at the short forms' edges and the extremes")
    func integers() {
        for value: Int64 in [0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, -1, -10, -99, -100, .max, .min] {
            #expect(RedisCommand("X", .integer(value)).words == ["X", String(value)])
            let text = String(value)
            #expect(
                RedisCommand("X", .integer(value)).encoded
                    == Array("*2\r\n$1\r\nX\r\n$\(text.utf8.count)\r\n\(text)\r\n".utf8))
        }
        // Bulk strings at the edges of the length's digit count and of the stack scratch (224).
        for length in [0, 1, 9, 10, 99, 100, 223, 224, 225, 1000, 70_000] {
            let value = String(repeating: "a", count: length)
            #expect(
                RedisCommand("X", .string(value)).encoded == Array("*2\r\n$1\r\nX\r\n$\(length)\r\n\(value)\r\n".utf8))
        }
    }

    @Test("a command's bytes are followed by a NUL that is not part of it (hiredis reads them as a C string)")
    func terminated() {
        for command in [
            RedisCommand("PING"), RedisCommand("SUBSCRIBE", "+switch-master"), RedisCommand("X", .bytes([0, 1])),
        ] {
            #expect(command.terminated.last == 0)
            #expect(command.terminated.dropLast().elementsEqual(command.encoded))
            #expect(command.encoded.last == 10, "the RESP bytes end with CR LF")
            let length = command.withCommandBytes { _, count in Int32(count) }
            #expect(Int(length) == command.encoded.count)
        }
    }

    @Test("a command's words read back its arguments, including ones holding CR LF")
    func words() {
        let command = RedisCommand("SET", "k", .bytes(Array("a\r\nb".utf8)), .integer(-7), "")
        #expect(command.words == ["SET", "k", "a\r\nb", "-7", ""])
    }

    @Test("connect, handshake, ready; failures reconnect with growing attempts")
    func lifeCycle() {
        var machine = RedisConnectionStateMachine()
        #expect(machine.start() == .connect)
        #expect(machine.start() == .none)
        #expect(machine.failed() == .reconnect(attempt: 1, wasReady: false))
        #expect(machine.state == .waitingToReconnect(attempt: 2))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.failed() == .reconnect(attempt: 2, wasReady: false))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.connected() == .sendHandshake)
        #expect(!machine.isReady)
        #expect(machine.handshakeSucceeded() == .becameReady)
        #expect(machine.isReady)
        // Losing a working connection reconnects at once, and the attempt count starts over.
        #expect(machine.failed() == .reconnect(attempt: 0, wasReady: true))
        #expect(machine.failed() == .none)
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.close() == .tearDown)
        #expect(machine.reconnectTimerFired() == .none)
        #expect(machine.failed() == .none)
        #expect(machine.close() == .none)
    }

    @Test("commands wait only for a first connect attempt; retryNow starts one")
    func holdingCommands() {
        var machine = RedisConnectionStateMachine()
        #expect(!machine.holdsCommands)
        _ = machine.start()
        #expect(machine.holdsCommands)
        _ = machine.connected()
        #expect(machine.holdsCommands)
        // After a failed attempt the next ones fail fast: the server is likely down.
        _ = machine.failed()
        #expect(!machine.holdsCommands)
        _ = machine.reconnectTimerFired()
        #expect(machine.state == .connecting(attempt: 2))
        #expect(!machine.holdsCommands)
        _ = machine.failed()
        // Another connection saw the server come back: a first attempt again, at once.
        #expect(machine.retryNow() == .connect)
        #expect(machine.state == .connecting(attempt: 1))
        #expect(machine.holdsCommands)
        #expect(machine.retryNow() == .none)
        _ = machine.connected()
        _ = machine.handshakeSucceeded()
        #expect(!machine.holdsCommands)
        // A lost working connection: its first reconnect attempt holds commands again.
        _ = machine.failed()
        _ = machine.reconnectTimerFired()
        #expect(machine.holdsCommands)
    }

    @Test("late events in the wrong state are ignored")
    func staleEvents() {
        var machine = RedisConnectionStateMachine()
        #expect(machine.connected() == .none)
        #expect(machine.handshakeSucceeded() == .none)
        _ = machine.start()
        #expect(machine.handshakeSucceeded() == .none)
    }

    @Test("OOM replies are recognised")
    func outOfMemory() {
        #expect(RedisError(errorReply: "OOM command not allowed when used memory > 'maxmemory'.").isOutOfMemory)
        #expect(!RedisError(errorReply: "WRONGTYPE").isOutOfMemory)
        #expect(!RedisError.timedOut.isOutOfMemory)
    }
}
