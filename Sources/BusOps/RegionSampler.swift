import BusDomain
import BusLoop
import BusRedis
import BusRegions
import BusStreams

/// Reads one region's figures from its Redis: memory, and per biome the stream length, its
/// groups (pending, lag, consumers, oldest pending age) and dead letters. All commands of one
/// sample go out pipelined; nothing here runs per request.
package enum RegionSampler {
    /// Samples `region` over `connection` (on its loop); `completion` runs there once.
    package static func sample(
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
        status.master = connection.connectedServer?.description
        var biomes = region.biomes.map { BiomeStatus(biome: $0, length: 0, maxlen: region.stream.maxlen) }
        var outstanding = 2 + biomes.count * 4
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
        connection.send(InfoMemory()) { result in
            switch result {
            case .success(let memory):
                status.usedMemory = memory.usedMemory
                status.maxMemory = memory.maxMemory
            case .failure(let error):
                failed = failed ?? error
            }
            finishOne()
        }
        // The server actually written to, and its replicas: what a Sentinel region's failover moves.
        connection.send(SentinelProtocol.roleQuery) { result in
            if case .success(let reply) = result, let role = try? RedisRole(reply: reply) {
                status.role = role.name
                if case .master(let replicas) = role { status.replicas = replicas.map(\.description) }
            }
            finishOne()
        }
        let now = Clocks.unixMilliseconds()
        for index in biomes.indices {
            let biome = biomes[index].biome
            connection.send(XLen(stream: StreamKey.events(biome))) { result in
                if case .success(let length) = result { biomes[index].length = length }
                if case .failure(let error) = result { failed = failed ?? error }
                finishOne()
            }
            connection.send(XLen(stream: StreamKey.deadLetters(biome))) { result in
                if case .success(let length) = result { biomes[index].deadLetters = length }
                finishOne()
            }
            // Idempotency records: one read of the counts the append script keeps per time bucket.
            connection.send(CounterHash(key: IdempotencyKeys.stats(biome))) { result in
                if case .success(let fields) = result {
                    let live = IdempotencyAccounting.live(
                        fields, nowMs: now, ttlSeconds: region.stream.idempotencyTTLSeconds)
                    biomes[index].idempotencyKeys = live.keys
                    biomes[index].idempotencyBytes = live.bytes
                }
                finishOne()
            }
            connection.send(XInfoGroups(stream: StreamKey.events(biome))) { result in
                // A stream that does not exist yet has no groups: not an error.
                guard case .success(let groups) = result else { return finishOne() }
                biomes[index].groups = groups.map {
                    GroupStatus(
                        name: $0.name, pending: $0.pending, lag: $0.lag, consumers: $0.consumers,
                        oldestPendingAgeMs: nil)
                }
                let pendingGroups = groups.enumerated().filter { $0.element.pending > 0 }
                outstanding += pendingGroups.count
                for (groupIndex, group) in pendingGroups {
                    let summary = XPendingSummary(stream: StreamKey.events(biome), group: group.name)
                    connection.send(summary) { result in
                        if case .success(let pending) = result, let milliseconds = pending.oldestMilliseconds {
                            biomes[index].groups[groupIndex].oldestPendingAgeMs = max(0, now - milliseconds)
                        }
                        finishOne()
                    }
                }
                finishOne()
            }
        }
    }

    /// Samples every region of `catalog` over `connections` (one per region, by index).
    package static func snapshot(
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
