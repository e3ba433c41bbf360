import BusDomain
import BusRedis
import BusRegions
import BusStreams
import Testing

@testable import BusConsumer

/// The driver around `ConsumerStateMachine`: which commands it sends for the machine's actions,
/// and that its per-entry records follow the machine. No sockets: fake connections answered by
/// the test, a real loop and real timers.
@Suite("Consumer driver on scripted connections")
struct RegionConsumerDriverTests {
    private static let ev1 = StreamKey.events(BiomeID(1)!)
    private static let ev2 = StreamKey.events(BiomeID(2)!)
    private static let fields = ["chest_id": "c-1", "coords": "[1,2,3]", "ts": "1", "type": "chest"]

    /// Connects, creates the groups and answers the first read with entry `1-0` of biome 1.
    private static func deliverOne(_ parts: DriverParts) {
        parts.connectAndCreateGroups()
        parts.reads.answer("XREADGROUP", .success(Reply.read([(ev1, [Reply.entry("1-0", fields)])])))
    }

    @Test("XGROUP CREATE per stream once Redis is up; BUSYGROUP counts as created, then reading starts")
    func createsGroups() {
        let harness = DriverHarness(biomes: [1, 2])
        let sent = harness.onLoop { parts in
            parts.connect()
            return parts.commands.sent
        }
        #expect(
            sent == [
                ["XGROUP", "CREATE", Self.ev1, "treasure", "0", "MKSTREAM"],
                ["XGROUP", "CREATE", Self.ev2, "treasure", "0", "MKSTREAM"],
            ])
        let (groups, reads) = harness.onLoop { parts in
            parts.commands.answer("XGROUP", .success(.status("OK")))
            parts.commands.answer(
                "XGROUP", .failure(RedisError(errorReply: "BUSYGROUP Consumer Group name already exists")))
            return (parts.consumer.groups, parts.reads.waitingNames)
        }
        #expect(groups == .ready)
        #expect(reads == ["XREADGROUP"])
    }

    @Test("a failed group creation is retried after the backoff, every stream again")
    func groupCreationRetried() {
        let harness = DriverHarness(biomes: [1, 2])
        let groups = harness.onLoop { parts in
            parts.connect()
            parts.commands.answer("XGROUP", .success(.status("OK")))
            parts.commands.answer("XGROUP", .failure(.timedOut))
            return parts.consumer.groups
        }
        #expect(groups == .retrying(failures: 1))
        #expect(harness.onLoop { $0.reads.waitingNames.isEmpty })
        #expect(harness.eventually { $0.commands.waitingNames == ["XGROUP", "XGROUP"] })
        let (after, reads) = harness.onLoop { parts in
            parts.connectAndCreateGroups()
            return (parts.consumer.groups, parts.reads.waitingNames)
        }
        #expect(after == .ready)
        #expect(reads == ["XREADGROUP"])
    }

    @Test("NOGROUP on a read: the groups are created again after a backoff, then reading resumes")
    func noGroupRecreates() {
        let harness = DriverHarness()
        let groups = harness.onLoop { parts in
            parts.connectAndCreateGroups()
            parts.reads.answer("XREADGROUP", .failure(RedisError(errorReply: "NOGROUP No such key")))
            return parts.consumer.groups
        }
        #expect(groups == .retrying(failures: 1))
        #expect(harness.eventually { $0.commands.waitingNames == ["XGROUP"] })
        let reads = harness.onLoop { parts in
            parts.commands.answer("XGROUP", .success(.status("OK")))
            return parts.reads.waitingNames
        }
        #expect(reads == ["XREADGROUP"])
    }

    @Test("XREADGROUP asks the streams and COUNT of the ReadPlan, rotating when slots are fewer than streams")
    func readsFollowReadPlan() {
        let harness = DriverHarness(biomes: [1, 2, 3]) { $0.region.consumer.maxInFlight = 2 }
        let reads = harness.onLoop { parts in
            parts.connectAndCreateGroups()
            // BLOCK ran out: null.
            parts.reads.answer("XREADGROUP", .success(.null))
            return parts.reads.sent
        }
        let streams = (1...3).map { StreamKey.events(BiomeID(Int64($0))!) }
        func expected(_ plan: ReadPlan) -> [String] {
            ["XREADGROUP", "GROUP", "treasure", "me", "COUNT", "\(plan.countPerStream)", "BLOCK", "100", "STREAMS"]
                + plan.streams.map { streams[$0] } + plan.streams.map { _ in ">" }
        }
        let first = ReadPlan(freeSlots: 2, streamCount: 3, rotation: 0)
        let second = ReadPlan(freeSlots: 2, streamCount: 3, rotation: first.streams.count)
        #expect(reads == [expected(first), expected(second)])
        #expect(reads[1].suffix(4) == [streams[2], streams[0], ">", ">"])
    }

    @Test("the successes of one loop pass go out as one multi-id XACK per stream; then nothing is held")
    func acknowledgesInOneXAckPerStream() {
        let harness = DriverHarness(biomes: [1, 2]) { $0.region.consumer.maxInFlight = 4 }
        let calls = harness.onLoop { parts in
            parts.connectAndCreateGroups()
            parts.reads.answer(
                "XREADGROUP",
                .success(
                    Reply.read([
                        (Self.ev1, [Reply.entry("1-0", Self.fields), Reply.entry("2-0", Self.fields)]),
                        (Self.ev2, [Reply.entry("3-0", Self.fields)]),
                    ])))
            return parts.handler.calls.map { "\($0.entry.key)" }
        }
        #expect(calls == ["\(Self.ev1)/1-0", "\(Self.ev1)/2-0", "\(Self.ev2)/3-0"])
        #expect(harness.onLoop { $0.handler.calls.allSatisfy { $0.entry.fields == Self.fields } })
        harness.onLoop { parts in
            for call in parts.handler.calls { call.completion(.success(())) }
        }
        #expect(harness.eventually { $0.commands.waitingNames.filter { $0 == "XACK" }.count == 2 })
        let acks = harness.onLoop { $0.commands.sent.filter { $0.first == "XACK" } }
        #expect(Set(acks) == [["XACK", Self.ev1, "treasure", "1-0", "2-0"], ["XACK", Self.ev2, "treasure", "3-0"]])
        let settled = harness.onLoop { parts in
            while parts.commands.answer("XACK", .success(.integer(1))) != nil {}
            return (parts.isSettled, parts.consumer.statistics.handled)
        }
        #expect(settled == (true, 3))
    }

    @Test("a handler timeout retries through claim-if-owned, counting the delivery; the late completion is ignored")
    func handlerTimeoutRetries() {
        let harness = DriverHarness { $0.handlerTimeout = .milliseconds(30) }
        harness.onLoop { parts in
            Self.deliverOne(parts)
        }
        let claim = harness.command("claim-if-owned")
        #expect(claim == ["EVALSHA", "claim-if-owned", "1", Self.ev1, "treasure", "1-0", "me", "1"])
        let refreshed = Self.fields.merging(["chest_id": "c-2"]) { _, new in new }
        let second = harness.onLoop { parts in
            parts.commands.answer("claim-if-owned", .success(.array([Reply.entry("1-0", refreshed)])))
            // The first run completes after its timeout: ignored.
            parts.handler.calls[0].completion(.success(()))
            return (
                parts.handler.calls.count, parts.handler.calls.last!.entry.deliveries,
                parts.handler.calls.last!.entry.fields, parts.consumer.statistics.handled
            )
        }
        #expect(second == (2, 2, refreshed, 0))
        harness.onLoop { $0.handler.calls[1].completion(.success(())) }
        #expect(harness.eventually { $0.commands.waitingNames.contains("XACK") })
        #expect(
            harness.onLoop { parts in
                parts.commands.answer("XACK", .success(.integer(1)))
                return parts.isSettled && parts.consumer.statistics.retried == 1
            })
    }

    @Test("a transient failure retries with JUSTID (countsDelivery 0), keeping the delivery count")
    func transientFailureKeepsCount() {
        let harness = DriverHarness()
        harness.onLoop { parts in
            Self.deliverOne(parts)
            parts.handler.calls[0].completion(.failure(HandlerFailure("database down", transient: true)))
        }
        let claim = harness.command("claim-if-owned")
        #expect(claim?.last == "0")
        let retried = harness.onLoop { parts in
            parts.commands.answer("claim-if-owned", .success(.array([Reply.bulk("1-0")])))
            return (parts.handler.calls.count, parts.handler.calls.last!.entry.deliveries)
        }
        #expect(retried == (2, 1))
    }

    @Test("nil from claim-if-owned: another consumer owns the entry; its slot frees and the next read goes out")
    func lostOwnershipFreesSlot() {
        let harness = DriverHarness { $0.region.consumer.maxInFlight = 1 }
        let readsWhileHeld = harness.onLoop { parts in
            Self.deliverOne(parts)
            parts.handler.calls[0].completion(.failure(HandlerFailure("bad entry")))
            return parts.reads.waitingNames
        }
        #expect(readsWhileHeld.isEmpty)
        #expect(harness.command("claim-if-owned") != nil)
        let after = harness.onLoop { parts in
            parts.commands.answer("claim-if-owned", .success(.null))
            return (parts.isSettled, parts.consumer.statistics.lostOwnership, parts.reads.waitingNames)
        }
        #expect(after == (true, 1, ["XREADGROUP"]))
    }

    @Test("past max_deliveries the dead-letter script gets the sorted fields, source_id, deliveries and error")
    func deadLetters() {
        let harness = DriverHarness { $0.region.consumer.maxDeliveries = 1 }
        let script = harness.onLoop { parts in
            Self.deliverOne(parts)
            parts.handler.calls[0].completion(.failure(HandlerFailure("boom")))
            return parts.commands.waitingCommand("dead-letter")
        }
        #expect(
            script == [
                "EVALSHA", "dead-letter", "2", StreamKey.deadLetters(BiomeID(1)!), Self.ev1, "treasure", "1-0", "me",
                "chest_id", "c-1", "coords", "[1,2,3]", "ts", "1", "type", "chest",
                "source_id", "1-0", "deliveries", "1", "error", "boom",
            ])
        let settled = harness.onLoop { parts in
            parts.commands.answer("dead-letter", .success(.integer(1)))
            return (parts.isSettled, parts.consumer.statistics.deadLettered)
        }
        #expect(settled == (true, 1))
    }

    @Test("a reclaim follows the XAUTOCLAIM cursor, asks XPENDING per id and counts deleted ids as trimmed")
    func reclaimFollowsCursor() {
        let harness = DriverHarness { $0.reclaimInterval = .milliseconds(20) }
        harness.onLoop { $0.connectAndCreateGroups() }
        // The claim came due while the blocking read held the slots: it goes out when the read returns.
        #expect(harness.eventually { $0.commands.waitingNames.contains("remove-gone-consumers") })
        let first = harness.onLoop { parts in
            parts.reads.answer("XREADGROUP", .success(.null))
            return parts.commands.waitingCommand("XAUTOCLAIM")
        }
        #expect(first == ["XAUTOCLAIM", Self.ev1, "treasure", "me", "1000", "0-0", "COUNT", "32"])
        let second = harness.onLoop { parts in
            parts.commands.answer("XAUTOCLAIM", .success(Reply.autoClaim(cursor: "5-0", [], deleted: ["2-0"])))
            return parts.commands.waitingCommand("XAUTOCLAIM")
        }
        #expect(second == ["XAUTOCLAIM", Self.ev1, "treasure", "me", "1000", "5-0", "COUNT", "32"])
        let pending = harness.onLoop { parts in
            parts.commands.answer(
                "XAUTOCLAIM", .success(Reply.autoClaim(cursor: "0-0", [Reply.entry("7-0", Self.fields)])))
            return parts.commands.waitingCommand("XPENDING")
        }
        #expect(pending == ["XPENDING", Self.ev1, "treasure", "7-0", "7-0", "1"])
        let handled = harness.onLoop { parts in
            parts.commands.answer("XPENDING", .success(Reply.pending("7-0", consumer: "me", deliveries: 3)))
            let statistics = parts.consumer.statistics
            return (
                parts.handler.calls.map(\.entry.deliveries), parts.handler.calls.map(\.entry.fields),
                statistics.reclaimed, statistics.trimmed, parts.reads.waitingNames
            )
        }
        #expect(handled == ([3], [Self.fields], 1, 1, ["XREADGROUP"]))
    }

    @Test("a reclaim round makes at most 64 XAUTOCLAIM calls per stream; the next round goes on from the cursor")
    func reclaimRoundIsBounded() {
        let harness = DriverHarness { $0.reclaimInterval = .milliseconds(20) }
        harness.onLoop { $0.connectAndCreateGroups() }
        #expect(harness.eventually { $0.commands.waitingNames.contains("remove-gone-consumers") })
        let (calls, sweeps) = harness.onLoop { parts in
            parts.reads.answer("XREADGROUP", .success(.null))
            // The pending list never wraps back to 0-0 within the round.
            for call in 1...65 {
                parts.commands.answer("XAUTOCLAIM", .success(Reply.autoClaim(cursor: "\(call)-0", [])))
            }
            let sweeps = parts.commands.sent.filter { $0[1] == "remove-gone-consumers" }.count
            return (parts.commands.sent.filter { $0[0] == "XAUTOCLAIM" }.count, sweeps)
        }
        #expect(calls == RegionConsumer.claimCallsPerRound)
        // The next round comes due while the next read is out, and goes out when it returns.
        #expect(
            harness.eventually { parts in
                parts.commands.sent.filter { $0[1] == "remove-gone-consumers" }.count > sweeps
            })
        let next = harness.onLoop { parts in
            parts.reads.answer("XREADGROUP", .success(.null))
            return parts.commands.waitingCommand("XAUTOCLAIM")
        }
        #expect(next?[5] == "64-0")
    }

    @Test("stop closes the read connection, releases waiting retries and finishes after the handlers")
    func stopFinishesAfterHandlers() {
        let harness = DriverHarness {
            $0.region.consumer.maxInFlight = 2
            // A retry that would wait long: stop must not.
            $0.region.consumer.backoff = BackoffPolicy(initialMs: 60_000, multiplier: 2, maxMs: 60_000, jitter: 0)
        }
        let held = harness.onLoop { parts in
            parts.connectAndCreateGroups()
            parts.reads.answer(
                "XREADGROUP",
                .success(
                    Reply.read([(Self.ev1, [Reply.entry("1-0", Self.fields), Reply.entry("2-0", Self.fields)])])))
            parts.handler.calls[1].completion(.failure(HandlerFailure("bad entry")))
            return parts.consumer.entries.values.filter(\.hasArmedTimer).count
        }
        // 1-0 is being handled (its timeout armed), 2-0 waits to retry.
        #expect(held == 2)
        let stopping = harness.onLoop { parts in
            parts.consumer.stop { parts.finished += 1 }
            return (
                parts.finished, parts.reads.isClosed, parts.commands.isClosed, parts.consumer.inFlight,
                Array(parts.consumer.entries.keys.map(\.id))
            )
        }
        #expect(stopping == (0, true, false, 1, ["1-0"]))
        harness.onLoop { $0.handler.calls[0].completion(.success(())) }
        #expect(harness.eventually { $0.commands.waitingNames.contains("XACK") })
        let done = harness.onLoop { parts in
            parts.commands.answer("XACK", .success(.integer(1)))
            return (parts.finished, parts.isSettled, parts.commands.isClosed, parts.reads.sent.count)
        }
        #expect(done == (1, true, true, 1))
    }
}
