// bench/json's timer: how long JSONParser takes on a spawn body and on the worst 16 KiB body
// for the duplicate-member check (one flat object of ~2,200 distinct short keys).
// Prints the median of ROUNDS rounds of ITERATIONS parses each, in microseconds per parse.
import BusJSON

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway's body cap is 16 KiB; fill it with the shortest distinct keys (`"a":0,`).
func manyKeysBody(limit: Int = 16 * 1024) -> [UInt8] {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    var keys: [String] = alphabet.map { String($0) }
    keys += alphabet.flatMap { first in alphabet.map { String([first, $0]) } }
    keys += alphabet.flatMap { first in alphabet.flatMap { second in alphabet.map { String([first, second, $0]) } } }
    var text = "{"
    for key in keys {
        let member = "\"\(key)\":0"
        if text.utf8.count + member.utf8.count + 2 > limit { break }
        if text.count > 1 { text += "," }
        text += member
    }
    return Array((text + "}").utf8)
}

func nanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func medianMicroseconds(_ body: [UInt8], iterations: Int, rounds: Int) -> Double {
    var perRound: [Double] = []
    for _ in 0..<rounds {
        let start = nanoseconds()
        for _ in 0..<iterations {
            guard (try? JSONParser.parse(body)) != nil else { fatalError("benchmark body does not parse") }
        }
        perRound.append(Double(nanoseconds() - start) / Double(iterations) / 1000)
    }
    return perRound.sorted()[rounds / 2]
}

let environment = ProcessInfoLite()
let rounds = environment.int("ROUNDS", default: 7)
let spawn = Array(#"{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}"#.utf8)
let wide = manyKeysBody()
let wideKeys = wide.filter { $0 == UInt8(ascii: ":") }.count
print("| body | bytes | µs per parse (median of \(rounds)) |")
print("|---|---|---|")
print(
    "| spawn body (4 keys) | \(spawn.count) | "
        + "\(format(medianMicroseconds(spawn, iterations: environment.int("SPAWN_ITERATIONS", default: 200_000), rounds: rounds))) |"
)
print(
    "| flat object, \(wideKeys) short keys | \(wide.count) | "
        + "\(format(medianMicroseconds(wide, iterations: environment.int("WIDE_ITERATIONS", default: 200), rounds: rounds))) |"
)

func format(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

/// Integer settings from the environment, without Foundation.
struct ProcessInfoLite {
    func int(_ name: String, default fallback: Int) -> Int {
        guard let raw = getenv(name), let value = Int(String(cString: raw)), value > 0 else { return fallback }
        return value
    }
}
