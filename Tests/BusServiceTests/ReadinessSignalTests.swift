import Synchronization
import Testing

@testable import BusService

@Suite("ReadinessSignal")
struct ReadinessSignalTests {
    @Test("records report a change only when the outcome flips")
    func changes() {
        let signal = ReadinessSignal(members: 2)
        #expect(!signal.isReady)
        #expect(!signal.record(false, from: 0))
        #expect(signal.record(true, from: 0))
        #expect(!signal.record(true, from: 1))
        #expect(signal.isReady)
        #expect(signal.record(false, from: 1))
        #expect(!signal.isReady)
    }

    @Test("turning ready runs the other members' recovery hooks, not the reporter's; turning unready runs none")
    func hooks() {
        let signal = ReadinessSignal(members: 3)
        let woken = Mutex<[Int]>([])
        for member in 0..<3 { signal.onRecovery(member: member) { woken.withLock { $0.append(member) } } }
        signal.onRecovery(member: 0) { woken.withLock { $0.append(99) } }
        signal.record(true, from: 1)
        #expect(woken.withLock { $0.sorted() } == [0, 2])
        signal.record(false, from: 0)
        signal.record(false, from: 2)
        #expect(woken.withLock { $0.count } == 2)
    }
}
