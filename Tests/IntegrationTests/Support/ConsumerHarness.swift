import BusConsumer
import BusDomain
import BusRegions
import BusTesting
import Foundation
import Logging

/// An in-process consumer (its own loop thread) for one region.
final class ConsumerHarness {
    let service: ConsumerService

    init(region: RegionConfig, postgresURL: String, name: String = "test-consumer") throws {
        let configuration = ConsumerService.Configuration(
            region: region, biomes: region.biomes, consumerName: name, postgresURL: postgresURL)
        service = try ConsumerService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        service.start()
    }

    deinit {
        service.shutdown()
    }

    /// A region on `redis` with fast retries, for tests.
    static func region(
        _ name: String = "north", redis: RedisServerProcess, biomes: [Int64], maxInFlight: Int = 32,
        maxDeliveries: Int = 5,
        initialMs: Int = 20, maxMs: Int = 200, claimIdleMs: Int = 6000
    ) -> RegionConfig {
        region(
            name, address: RedisAddress(host: "127.0.0.1", port: redis.port), biomes: biomes, maxInFlight: maxInFlight,
            maxDeliveries: maxDeliveries, initialMs: initialMs, maxMs: maxMs, claimIdleMs: claimIdleMs)
    }

    /// A region at `address` (a fixed server or a Sentinel master) with fast retries, for tests.
    static func region(
        _ name: String = "north", address: RedisAddress, biomes: [Int64], maxInFlight: Int = 32,
        maxDeliveries: Int = 5, initialMs: Int = 20, maxMs: Int = 200, claimIdleMs: Int = 6000
    ) -> RegionConfig {
        var region = RegionConfig(
            name: name, redis: address, biomes: biomes.map { BiomeID($0)! }, stream: StreamConfig(maxlen: 100_000))
        region.consumer.maxInFlight = maxInFlight
        region.consumer.maxDeliveries = maxDeliveries
        region.consumer.backoff = BackoffPolicy(initialMs: initialMs, multiplier: 2, maxMs: maxMs, jitter: 0.1)
        region.consumer.claimIdleMs = claimIdleMs
        region.consumer.blockMs = 500
        // As a region file that leaves handler_timeout_ms out would have it.
        region.consumer.handlerTimeoutMs = ConsumerConfig.derivedHandlerTimeoutMs(
            claimIdleMs: claimIdleMs, backoff: region.consumer.backoff, blockMs: region.consumer.blockMs)
        return region
    }
}

/// A psql session holding `LOCK TABLE treasure_chests IN EXCLUSIVE MODE` for `seconds`: every
/// handler's INSERT blocks, while reads (the tests' checks) still go through.
final class TableLock {
    private let session: ChildProcess

    init(database: TestDatabase, seconds: Double) throws {
        session = try database.server.psqlInBackground(
            "BEGIN; LOCK TABLE treasure_chests IN EXCLUSIVE MODE; SELECT pg_sleep(\(seconds)); COMMIT;",
            database: database.name)
        let held = Polling.waitUntil {
            (try? database.server.psql(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'treasure_chests' AND l.mode = 'ExclusiveLock' AND l.granted",
                database: database.name)) == "1"
        }
        guard held else { throw FixtureError("the table lock was not taken") }
    }

    func waitUntilReleased() {
        session.waitForExit(.seconds(120))
    }

    /// `waitUntilReleased` for async code: polls without holding a thread.
    func waitUntilReleased() async {
        await session.waitForExit(.seconds(120))
    }

    /// Ends the locking session now (its transaction rolls back and the lock goes).
    func release(database: TestDatabase) throws {
        try database.psql(
            "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'treasure_chests' AND l.mode = 'ExclusiveLock' AND l.granted"
        )
        session.waitForExit(.seconds(30))
    }

    deinit {
        session.stop()
    }
}
