import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Process, port and polling helpers shared by the integration fixtures.
enum TestEnvironment {
    /// A loopback TCP port that was free a moment ago (bound to port 0, then released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                _ = bind(fd, socketAddress, length)
                _ = getsockname(fd, socketAddress, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A fresh directory under the system temp dir; the caller removes it.
    static func makeTemporaryDirectory(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The full path of `name` on PATH (or in the usual sbin/bin places).
    static func executable(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
        for directory in candidates {
            let full = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: full) { return full }
        }
        throw FixtureError("\(name) not found on PATH; run scripts/bootstrap")
    }

    /// Runs a command to completion and returns its standard output (stderr is appended on failure).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): "
                    + text + String(decoding: errorData, as: UTF8.self))
        }
        return text
    }

    /// Polls `condition` every 20 ms until it holds; false after `timeout`.
    @discardableResult
    static func waitUntil(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try condition()
    }

    /// Runs `count` jobs on `width` threads at once; results in job order.
    static func concurrently<T: Sendable>(
        _ count: Int, width: Int, _ job: @escaping @Sendable (Int) throws -> T
    ) -> [Result<T, any Error>] {
        let results = ResultsBox<T>(count: count)
        let group = DispatchGroup()
        for worker in 0..<width {
            group.enter()
            Thread.detachNewThread {
                var index = worker
                while index < count {
                    results.set(index, Result { try job(index) })
                    index += width
                }
                group.leave()
            }
        }
        group.wait()
        return results.values
    }
}

final class ResultsBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Result<T, any Error>?]

    init(count: Int) {
        storage = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Result<T, any Error>) {
        lock.withLock { storage[index] = value }
    }

    var values: [Result<T, any Error>] { lock.withLock { storage.map { $0! } } }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
