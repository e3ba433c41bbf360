import BusTesting
import Foundation
import Synchronization

extension PostgresCluster {
    /// The database every test cluster is made with.
    static let testDatabase = "biomebus_test"

    /// A throwaway cluster of its own, for a test that stops or restarts its server. Starting
    /// one takes a second or two: other tests share `shared()` and isolate by creating their
    /// own tables.
    static func forTest() throws -> PostgresCluster {
        try temporary(database: testDatabase)
    }

    /// One cluster for the whole test process, started on first use and removed at exit.
    static func shared() throws -> PostgresCluster {
        try sharedCluster.get()
    }

    /// `forTest()` off the cooperative pool (initdb and the first start take seconds).
    static func forTest() async throws -> PostgresCluster {
        try await OffPool.run { try forTest() }
    }

    /// `shared()` off the cooperative pool: the first caller starts the cluster.
    static func shared() async throws -> PostgresCluster {
        try await OffPool.run { try shared() }
    }

    private static let sharedCluster: Result<PostgresCluster, any Error> = Result {
        let cluster = try forTest()
        started.withLock { $0 = cluster }
        atexit { PostgresCluster.started.withLock { $0?.shutdown() } }
        return cluster
    }

    /// The shared cluster once it exists, for the exit hook (which must not start one).
    private static let started = Mutex<PostgresCluster?>(nil)
}
