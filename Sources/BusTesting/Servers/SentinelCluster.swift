import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A Sentinel-monitored Redis group of our own, for failover tests: a master, replicas and three
/// Sentinels (`redis-server sentinel.conf --sentinel`), all on free loopback ports in one
/// temporary directory (removed when the object goes away), with a short
/// `down-after-milliseconds` so a killed master is replaced within seconds.
///
/// `init` returns only once every replica is in sync and every Sentinel knows the replicas and
/// the other Sentinels, so a failover can start at once. Use from one thread at a time.
package final class SentinelCluster: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time; the fixtures it holds are as well.
    package static let masterName = "biomebus"
    package static let quorum = 2

    package let directory: URL
    /// Every data server, the first master at index 0; the list keeps killed ones.
    package let servers: [RedisServerProcess]
    package let sentinelPorts: [Int]
    private var sentinels: [ChildProcess] = []
    private let cliPath: String
    /// The address the servers and Sentinels use for each other.
    package let host = "127.0.0.1"

    package init(replicas: Int = 1, downAfter: Duration = .milliseconds(1000)) throws {
        guard let server = ProcessTools.find("redis-server"), let cli = ProcessTools.find("redis-cli") else {
            throw FixtureError("redis-server or redis-cli not found; run scripts/bootstrap")
        }
        cliPath = cli
        directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-sentinel")
        do {
            var servers: [RedisServerProcess] = []
            for index in 0...replicas {
                servers.append(
                    try RedisServerProcess(
                        directory: directory.appendingPathComponent("redis-\(index)"), port: LoopbackPorts.freePort(),
                        persistent: false))
            }
            self.servers = servers
            let masterPort = servers[0].port
            for replica in servers.dropFirst() { try replica.cli("REPLICAOF", "127.0.0.1", String(masterPort)) }
            let synced = Polling.waitUntil(timeout: .seconds(30)) {
                servers.dropFirst().allSatisfy {
                    ((try? $0.cli("INFO", "replication")) ?? "").contains("master_link_status:up")
                }
            }
            guard synced else { throw FixtureError("replicas did not sync with the master on port \(masterPort)") }
            sentinelPorts = (0..<3).map { _ in LoopbackPorts.freePort() }
            let milliseconds =
                downAfter.components.seconds * 1000 + downAfter.components.attoseconds / 1_000_000_000_000_000
            for (index, port) in sentinelPorts.enumerated() {
                let sentinelDirectory = directory.appendingPathComponent("sentinel-\(index)")
                try FileManager.default.createDirectory(at: sentinelDirectory, withIntermediateDirectories: true)
                // Sentinel rewrites its configuration file, so each gets its own writable copy.
                let config = sentinelDirectory.appendingPathComponent("sentinel.conf")
                try """
                port \(port)
                bind 127.0.0.1
                daemonize no
                dir \(sentinelDirectory.path)
                sentinel monitor \(Self.masterName) 127.0.0.1 \(masterPort) \(Self.quorum)
                sentinel down-after-milliseconds \(Self.masterName) \(milliseconds)
                sentinel failover-timeout \(Self.masterName) 10000
                sentinel parallel-syncs \(Self.masterName) 1

                """.write(to: config, atomically: true, encoding: .utf8)
                sentinels.append(
                    try ChildProcess(
                        name: "redis-sentinel", executable: server, arguments: [config.path, "--sentinel"],
                        logFile: sentinelDirectory.appendingPathComponent("sentinel.log")))
            }
            // Sentinels learn replicas from the master's INFO and each other from hello messages
            // (every 2 s); a failover needs both.
            let acquainted = Polling.waitUntil(timeout: .seconds(30), every: .milliseconds(100)) {
                self.sentinelPorts.allSatisfy { port in
                    guard let fields = try? self.masterState(sentinelPort: port) else { return false }
                    return fields["num-slaves"] == String(replicas) && fields["num-other-sentinels"] == "2"
                }
            }
            guard acquainted else { throw FixtureError("Sentinels did not discover the replicas and each other") }
        } catch {
            for sentinel in sentinels { sentinel.stop(signal: SIGKILL) }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        for sentinel in sentinels { sentinel.stop(signal: SIGKILL) }
        for server in servers { server.kill() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `redis+sentinel://127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>/biomebus`.
    package var url: String {
        "redis+sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/\(Self.masterName)"
    }

    /// The master's port as Sentinel `index` names it (`SENTINEL get-master-addr-by-name`).
    package func announcedMasterPort(sentinel index: Int) throws(FixtureError) -> Int? {
        let lines = try sentinelCLI(index, ["SENTINEL", "get-master-addr-by-name", Self.masterName])
            .split(separator: "\n")
        return lines.count == 2 ? Int(lines[1].trimmingCharacters(in: .whitespaces)) : nil
    }

    /// The data server listening on `port`.
    package func server(port: Int) -> RedisServerProcess? { servers.first { $0.port == port } }

    /// SIGKILLs the server every Sentinel names as master and returns its port.
    @discardableResult
    package func killMaster() throws(FixtureError) -> Int {
        guard let port = try announcedMasterPort(sentinel: 0), let master = server(port: port) else {
            throw FixtureError("no master announced")
        }
        master.kill()
        return port
    }

    /// Polls until every Sentinel names a master other than `oldPort` and that server answers
    /// `ROLE` as master; its port, or nil after `timeout`.
    package func waitForNewMaster(replacing oldPort: Int, timeout: Duration = .seconds(30)) -> Int? {
        var found: Int?
        _ = Polling.waitUntil(timeout: timeout, every: .milliseconds(50)) {
            let ports = sentinelPorts.indices.map { try? announcedMasterPort(sentinel: $0) }
            guard let first = ports.first ?? nil, first != oldPort, ports.allSatisfy({ $0 == first }),
                let role = try? server(port: first)?.cli("ROLE"), role.hasPrefix("master")
            else { return false }
            found = first
            return true
        }
        return found
    }

    /// `redis-cli --raw` against Sentinel `index`, output trimmed.
    @discardableResult
    package func sentinelCLI(_ index: Int, _ arguments: [String]) throws(FixtureError) -> String {
        try ProcessTools.run(cliPath, ["-h", "127.0.0.1", "-p", String(sentinelPorts[index]), "--raw"] + arguments)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `SENTINEL master <name>` of the Sentinel on `sentinelPort` as a field map.
    private func masterState(sentinelPort: Int) throws(FixtureError) -> [String: String] {
        guard let index = sentinelPorts.firstIndex(of: sentinelPort) else { return [:] }
        let lines = try sentinelCLI(index, ["SENTINEL", "master", Self.masterName]).split(separator: "\n").map {
            String($0)
        }
        var fields: [String: String] = [:]
        var position = 0
        while position + 1 < lines.count {
            fields[lines[position]] = lines[position + 1]
            position += 2
        }
        return fields
    }
}

/// The same fixture calls for async code (every test body): making the group takes seconds
/// (replicas syncing, Sentinels meeting every 2 s), so it runs off the cooperative pool.
extension SentinelCluster {
    /// `init(replicas:downAfter:)` off the cooperative pool.
    package static func start(replicas: Int = 1, downAfter: Duration = .milliseconds(1000)) async throws
        -> SentinelCluster
    {
        try await OffPool.run { try SentinelCluster(replicas: replicas, downAfter: downAfter) }
    }

    /// `killMaster()` off the cooperative pool.
    @discardableResult
    package func killMaster() async throws(FixtureError) -> Int {
        try await OffPool.run { () throws(FixtureError) in try self.killMaster() }
    }

    /// `waitForNewMaster(replacing:timeout:)` off the cooperative pool.
    package func waitForNewMaster(replacing oldPort: Int, timeout: Duration = .seconds(30)) async -> Int? {
        await OffPool.run { self.waitForNewMaster(replacing: oldPort, timeout: timeout) }
    }
}
