import BusDomain
import BusLoop
import BusRedis

/// Reads one region's figures from its Redis: memory, and per biome the stream length, its
/// groups (pending, lag, consumers, oldest pending age) and dead letters. All commands of one
/// sample go out pipelined; nothing here runs per request.
public enum RegionSampler {
    /// Samples `region` over `connection` (on its loop); `completion` runs there once.
    public static func sample(
        _ region: RegionConfig, over connection: RedisConnection, shedding: Bool = false,
        _ completion: @escaping (RegionStatus) -> Void
    ) {
        var status = RegionStatus(
            name: region.name, redis: region.redis.description, up: connection.isReady, error: connection.lastError,
            memoryHighWater: region.stream.memoryHighWater, claimIdleMs: region.consumer.claimIdleMs, shedding: shedding
        )
        guard connection.isReady else {
            status.error = connection.lastError ?? "not connected"
            completion(status)
            return
        }
        var biomes = region.biomes.map { BiomeStatus(biome: $0, length: 0, maxlen: region.stream.maxlen) }
        var outstanding = 1 + biomes.count * 3
        var failed: RedisError?
        let finishOne = {
            outstanding -= 1
            guard outstanding == 0 else { return }
            status.biomes = biomes
            if let failed {
                status.up = false
                status.error = "\(failed)"
            }
            completion(status)
        }
        connection.send(RedisCommand("INFO", "memory")) { result in
            switch result {
            case .success(let reply):
                let info = parseInfo(reply.string ?? "")
                status.usedMemory = info["used_memory"].flatMap { Int64($0) }
                status.maxMemory = info["maxmemory"].flatMap { Int64($0) }
            case .failure(let error):
                failed = failed ?? error
            }
            finishOne()
        }
        let now = Clocks.unixMilliseconds()
        for index in biomes.indices {
            let biome = biomes[index].biome
            connection.send(RedisCommand("XLEN", .string(StreamKey.events(biome)))) { result in
                if case .success(let reply) = result { biomes[index].length = Int(reply.integer ?? 0) }
                if case .failure(let error) = result { failed = failed ?? error }
                finishOne()
            }
            connection.send(RedisCommand("XLEN", .string(StreamKey.deadLetters(biome)))) { result in
                if case .success(let reply) = result { biomes[index].deadLetters = Int(reply.integer ?? 0) }
                finishOne()
            }
            connection.send(RedisCommand("XINFO", "GROUPS", .string(StreamKey.events(biome)))) { result in
                // A stream that does not exist yet has no groups: not an error.
                guard case .success(let reply) = result else { return finishOne() }
                let groups = parseGroups(reply)
                biomes[index].groups = groups.map {
                    GroupStatus(
                        name: $0.name, pending: $0.pending, lag: $0.lag, consumers: $0.consumers,
                        oldestPendingAgeMs: nil)
                }
                let pendingGroups = groups.enumerated().filter { $0.element.pending > 0 }
                outstanding += pendingGroups.count
                for (groupIndex, group) in pendingGroups {
                    // Summary XPENDING: [count, smallest id, greatest id, consumers].
                    connection.send(RedisCommand("XPENDING", .string(StreamKey.events(biome)), .string(group.name))) {
                        result in
                        if case .success(let reply) = result, let parts = reply.array, parts.count >= 2,
                            let smallest = parts[1].string, let milliseconds = Int64(smallest.prefix { $0 != "-" })
                        {
                            biomes[index].groups[groupIndex].oldestPendingAgeMs = max(0, now - milliseconds)
                        }
                        finishOne()
                    }
                }
                finishOne()
            }
        }
    }

    /// `INFO` text: `key:value` lines.
    static func parseInfo(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            values[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return values
    }

    /// XINFO GROUPS: a flat field/value array per group.
    static func parseGroups(_ reply: RedisReply) -> [(name: String, pending: Int, lag: Int?, consumers: Int)] {
        (reply.array ?? []).compactMap { row in
            let fields = row.fieldMap
            guard let name = fields["name"]?.string else { return nil }
            let lag: Int? = fields["lag"].flatMap { $0 == .null ? nil : $0.integer.map(Int.init) }
            return (name, Int(fields["pending"]?.integer ?? 0), lag, Int(fields["consumers"]?.integer ?? 0))
        }
    }

    /// Samples every region of `catalog` over `connections` (one per region, by index).
    public static func snapshot(
        _ catalog: RegionCatalog, connections: [RedisConnection], shedding: [Bool] = [],
        _ completion: @escaping (RegionsSnapshot) -> Void
    ) {
        var statuses: [RegionStatus?] = Array(repeating: nil, count: catalog.regions.count)
        var remaining = catalog.regions.count
        let takenAt = Clocks.unixMilliseconds()
        for (index, region) in catalog.regions.enumerated() {
            let isShedding = index < shedding.count ? shedding[index] : false
            sample(region, over: connections[index], shedding: isShedding) { status in
                statuses[index] = status
                remaining -= 1
                if remaining == 0 { completion(RegionsSnapshot(takenAtMs: takenAt, regions: statuses.map { $0! })) }
            }
        }
    }
}
