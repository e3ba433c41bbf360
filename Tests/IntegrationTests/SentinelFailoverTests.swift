import BusLoop
import BusRedis
import BusTesting
import Foundation
import Synchronization
import Testing

/// A `SentinelMaster` and one `RedisConnection` to its master, on a loop of their own.
private final class SentinelClient: @unchecked Sendable {
    // @unchecked Sendable: `master` and `connection` are created, used and closed only on the
    // loop's thread (every access goes through `onLoop`); the loop is Sendable.
    let loop = EventLoop(name: "sentinel-test")
    private let thread: LoopThread
    private var master: SentinelMaster?
    private var connection: RedisConnection?
    /// How many times the master was announced lost (nil), counted on the loop.
    let losses = Mutex(0)

    init(url: String, healthCheckInterval: Duration = .seconds(1)) throws {
        thread = LoopThread(loop: loop)
        thread.start()
        let address = try SentinelAddress(url: url)
        onLoop {
            var configuration = SentinelMaster.Configuration(address: address)
            configuration.healthCheckInterval = healthCheckInterval
            let master = SentinelMaster(loop: self.loop, configuration: configuration)
            _ = master.observe { newMaster in
                if newMaster == nil { self.losses.withLock { $0 += 1 } }
            }
            master.start()
            // Host and port are the endpoint's business; database and password come from the URL.
            let connection = RedisConnection(
                loop: self.loop,
                configuration: RedisConnectionConfiguration(
                    host: "unused", port: 1, database: address.database, password: address.password),
                endpoint: .sentinelMaster(master))
            connection.start()
            self.master = master
            self.connection = connection
        }
    }

    /// Closes the connection and the master, then stops the loop; call once, at the end.
    func close() {
        onLoop {
            self.connection?.close()
            self.master?.close()
            self.connection = nil
            self.master = nil
        }
        loop.stop()
        thread.join()
    }

    /// Runs `body` on the loop and waits for it.
    @discardableResult
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        loop.waitForFixture { complete in complete(body()) }
    }

    /// Sends `command` on the master connection; nil if no outcome came within 5 s (a hang:
    /// the contract wants an answer within 1 s, success or failure).
    func send(_ arguments: RedisArgument...) -> Result<RedisReply, RedisError>? {
        let command = RedisCommand(arguments)
        return try? loop.waitFor(timeout: .seconds(5)) { complete in
            self.connection!.send(command) { complete($0) }
        }
    }

    var masterPort: Int? { onLoop { self.master!.master?.port } }
    var masterLastError: String? { onLoop { self.master!.lastError } }
    var masterRole: RedisRole? { onLoop { self.master!.masterRole } }
}

@Suite("Sentinel: master discovery and failover against real Sentinels", .serialized)
struct SentinelFailoverTests {
    @Test("the master is resolved, a SIGKILL failover followed, and commands succeed on the new master")
    func followsFailover() async throws {
        let cluster = try await SentinelCluster.start(replicas: 1)
        let client = try SentinelClient(url: cluster.url)
        defer { client.close() }
        let oldPort = try #require(try cluster.announcedMasterPort(sentinel: 0))
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) {
                (try? client.send("SET", "before", "1")?.get()) != nil
            })
        #expect(client.masterPort == oldPort)
        guard case .master(let replicas)? = client.masterRole else {
            Issue.record("no master role recorded: \(String(describing: client.masterRole))")
            return
        }
        #expect(replicas.map(\.port) == cluster.servers.map(\.port).filter { $0 != oldPort })
        // Replicated before the kill, so the promoted replica has it.
        #expect(try client.send("WAIT", 1, 1000)?.get().integer == 1)

        try await cluster.killMaster()
        let newPort = try #require(await cluster.waitForNewMaster(replacing: oldPort), "Sentinels named no new master")
        var hung = 0
        let resumed = await Polling.waitUntilAsync(timeout: .seconds(15)) {
            guard let outcome = client.send("SET", "after", "1") else {
                hung += 1
                return false
            }
            return (try? outcome.get()) != nil
        }
        #expect(resumed, "no command succeeded after the failover: \(client.masterLastError ?? "")")
        #expect(hung == 0, "commands during the failover must fail fast, never hang")
        #expect(client.masterPort == newPort)
        #expect(client.losses.withLock { $0 } >= 1)
        let newMaster = try #require(cluster.server(port: newPort))
        #expect(try newMaster.cli("GET", "before") == "1")
        #expect(try newMaster.cli("GET", "after") == "1")
    }

    @Test("READONLY from a demoted master makes the client look for the master again")
    func readOnlyResolvesAgain() async throws {
        let cluster = try await SentinelCluster.start(replicas: 1)
        // No periodic ROLE check and no failover: only the READONLY reply can reveal the demotion.
        let client = try SentinelClient(url: cluster.url, healthCheckInterval: .seconds(3600))
        defer { client.close() }
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) { (try? client.send("SET", "k", "1")?.get()) != nil })
        let port = try #require(client.masterPort)
        let master = try #require(cluster.server(port: port))
        #expect(client.losses.withLock { $0 } == 0)

        // Demoted behind the Sentinels' back: a replica of nothing, so writes get READONLY.
        try master.cli("REPLICAOF", "127.0.0.1", String(LoopbackPorts.freePort()))
        let refused = client.send("SET", "k", "2")
        #expect(refused.flatMap { try? $0.get() } == nil)
        if case .failure(let error)? = refused { #expect(error.serverCode == .readOnly) }
        #expect(client.losses.withLock { $0 } == 1, "READONLY must make the master lost")
        // The Sentinels still name it; its ROLE keeps it from being served again.
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) {
                client.masterLastError?.contains("is a slave") == true
            })
        #expect(client.masterPort == nil)
        #expect(client.send("SET", "k", "3").flatMap { try? $0.get() } == nil)

        try master.cli("REPLICAOF", "NO", "ONE")
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) { (try? client.send("SET", "k", "4")?.get()) != nil })
        #expect(client.masterPort == port)
        #expect(try master.cli("GET", "k") == "4")
    }

    @Test("a manual failover (the old master alive and demoted) is followed to the new master")
    func manualFailover() async throws {
        let cluster = try await SentinelCluster.start(replicas: 1)
        let client = try SentinelClient(url: cluster.url)
        defer { client.close() }
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) { (try? client.send("SET", "k", "1")?.get()) != nil })
        let oldPort = try #require(client.masterPort)

        // Sentinel promotes the replica, announces +switch-master and demotes the old master,
        // killing its clients: whichever the client notices first, it must end on the new one.
        try cluster.sentinelCLI(0, ["SENTINEL", "FAILOVER", SentinelCluster.masterName])
        let newPort = try #require(await cluster.waitForNewMaster(replacing: oldPort), "Sentinels named no new master")
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(15)) {
                (try? client.send("SET", "k", "2")?.get()) != nil && client.masterPort == newPort
            })
        #expect(try cluster.server(port: newPort)?.cli("GET", "k") == "2")
    }

    @Test("the +switch-master announcement alone moves the client off a hung master")
    func switchMasterAnnouncement() async throws {
        let cluster = try await SentinelCluster.start(replicas: 1)
        // No periodic ROLE check and no commands: a SIGSTOPped master drops no connection and
        // answers no error, so only the Sentinels' announcement can tell the client.
        let client = try SentinelClient(url: cluster.url, healthCheckInterval: .seconds(3600))
        defer { client.close() }
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) { (try? client.send("SET", "k", "1")?.get()) != nil })
        let oldPort = try #require(client.masterPort)
        let oldMaster = try #require(cluster.server(port: oldPort))

        oldMaster.pause()
        defer { oldMaster.resume() }
        let newPort = try #require(await cluster.waitForNewMaster(replacing: oldPort), "Sentinels named no new master")
        #expect(await Polling.waitUntilAsync(timeout: .seconds(10)) { client.masterPort == newPort })
        #expect(client.losses.withLock { $0 } >= 1)
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) { (try? client.send("SET", "k", "2")?.get()) != nil })
        #expect(try cluster.server(port: newPort)?.cli("GET", "k") == "2")
    }
}
