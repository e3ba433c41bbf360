/// Makes chest ids for spawns that came without one: `g-<process>-<worker>-<counter>`.
///
/// The process part is random per start, so ids stay unique across gateway processes and
/// restarts without coordination; one generator per loop means no shared counter and no lock.
struct ChestIDGenerator: Sendable {
    private let prefix: String
    private var counter: UInt64 = 0

    /// `processTag` should be the same for every generator of one process.
    init(processTag: String, worker: Int) {
        prefix = "g-\(processTag)-\(worker)-"
    }

    /// A random 12-character base-36 tag for this process.
    static func makeProcessTag() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() >> 2
        let text = String(value, radix: 36)
        return String(repeating: "0", count: max(0, 12 - text.count)) + text.suffix(12)
    }

    mutating func next() -> String {
        counter += 1
        return prefix + String(counter, radix: 36)
    }
}
