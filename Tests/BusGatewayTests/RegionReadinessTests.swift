import BusDomain
import BusRegions
import Logging
import Synchronization
import Testing

@testable import BusGateway

@Suite("RegionReadiness")
struct RegionReadinessTests {
    /// Log lines as "level message region".
    final class Lines: LogHandler, @unchecked Sendable {
        static let recorded = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
            function: String, line: UInt
        ) {
            let region = metadata?["region"].map { "\($0)" } ?? ""
            Self.recorded.withLock { $0.append("\(level) \(message) \(region)") }
        }
    }

    @Test("up and down are logged once per change for the process; the latest error is kept for /readyz")
    func logsAndReport() {
        let handler = Lines()
        let logger = Logger(label: "test") { _ in handler }
        Lines.recorded.withLock { $0 = [] }
        let readiness = RegionReadiness(catalog: SpawnPipelineTests.catalog, loops: 2, logger: logger)
        #expect(readiness.report().message == "regions not answering: north, south")
        readiness.connection(forRegion: 0, loop: 0, ready: true, error: nil)
        readiness.connection(forRegion: 0, loop: 1, ready: true, error: nil)
        readiness.connection(forRegion: 0, loop: 1, ready: false, error: "refused")
        readiness.connection(forRegion: 0, loop: 0, ready: false, error: "timed out")
        #expect(Lines.recorded.withLock { $0 } == ["info region up north", "warning region down north"])
        let report = readiness.report()
        #expect(report.message == "regions not answering: north, south")
        #expect(String(decoding: report.response.body, as: UTF8.self).contains(#""error":"timed out""#))
    }

    @Test("a region coming back runs the other loops' recovery hooks, not its own, and only on the change")
    func recoveryHooks() {
        let readiness = RegionReadiness(
            catalog: SpawnPipelineTests.catalog, loops: 3,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let woken = Mutex<[String]>([])
        for loop in 0..<3 {
            readiness.onRecovery(loop: loop) { region in woken.withLock { $0.append("loop \(loop) region \(region)") } }
        }
        readiness.connection(forRegion: 1, loop: 2, ready: true, error: nil)
        readiness.connection(forRegion: 1, loop: 0, ready: true, error: nil)
        #expect(woken.withLock { $0.sorted() } == ["loop 0 region 1", "loop 1 region 1"])
    }
}
