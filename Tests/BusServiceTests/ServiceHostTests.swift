import BusHTTP
import BusLoop
import Synchronization
import Testing

@testable import BusService

@Suite("ServiceHost: start, drain and close every worker on its own loop")
struct ServiceHostTests {
    /// What the fake workers did, from any loop.
    final class Journal: Sendable {
        let events = Mutex<[String]>([])
        func add(_ event: String) { events.withLock { $0.append(event) } }
        func count(_ event: String) -> Int { events.withLock { $0.filter { $0 == event }.count } }
    }

    final class FakeWorker: ServiceWorker {
        let index: Int
        let loop: EventLoop
        let journal: Journal
        /// A worker whose in-flight work never finishes: only the drain timeout ends it.
        let hangs: Bool

        init(index: Int, loop: EventLoop, journal: Journal, hangs: Bool) {
            self.index = index
            self.loop = loop
            self.journal = journal
            self.hangs = hangs
        }

        func start() {
            journal.add(loop.inLoop ? "start \(index) on its loop" : "start \(index) elsewhere")
        }

        func drain(then done: @escaping () -> Void) {
            journal.add("drain \(index)")
            if !hangs { done() }
        }

        func close() {
            journal.add(loop.inLoop ? "close \(index) on its loop" : "close \(index) elsewhere")
        }
    }

    @Test("start runs each worker's start on its own loop; shutdown drains and closes each exactly once, then joins")
    func lifecycle() throws {
        let journal = Journal()
        let host = try ServiceHost(name: "test", count: 3, listen: nil, drainTimeout: .seconds(10)) { index, loop in
            FakeWorker(index: index, loop: loop, journal: journal, hangs: false)
        }
        #expect(host.port == nil)
        host.start()
        host.shutdown()
        for index in 0..<3 {
            #expect(journal.count("start \(index) on its loop") == 1)
            #expect(journal.count("drain \(index)") == 1)
            #expect(journal.count("close \(index) on its loop") == 1)
        }
        #expect(journal.events.withLock { $0.count } == 9)
    }

    @Test("a drain that never finishes is cut by the timeout: close runs once and shutdown returns")
    func drainTimeout() throws {
        let journal = Journal()
        let host = try ServiceHost(name: "test", count: 2, listen: nil, drainTimeout: .milliseconds(50)) {
            index, loop in FakeWorker(index: index, loop: loop, journal: journal, hangs: index == 1)
        }
        host.start()
        host.shutdown()
        #expect(journal.count("drain 1") == 1)
        #expect(journal.count("close 1 on its loop") == 1)
        #expect(journal.count("close 0 on its loop") == 1)
    }
}
