import Foundation

/// A fixture or tool step that failed, in one human line.
package struct FixtureError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// Finding and running short-lived programs (initdb, psql, redis-cli, chown).
package enum ProcessTools {
    /// The full path of `name` on PATH or in the usual system
    /// directories (runuser lives in /usr/sbin on Debian, which a non-login PATH may lack).
    package static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `find(name)`, or an error that says how to install it.
    package static func executable(_ name: String) throws(FixtureError) -> String {
        guard let path = find(name) else { throw FixtureError("\(name) not found on PATH; run scripts/bootstrap") }
        return path
    }

    /// Runs a command to completion and returns its standard output. A non-zero exit throws,
    /// with the output and standard error in the message.
    ///
    /// Only for programs that exit on their own: one that daemonizes keeps `waitUntilExit`
    /// from returning (see `ChildProcess`).
    @discardableResult
    package static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil)
        throws(FixtureError) -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw FixtureError("cannot run \(executable): \(error)")
        }
        // The pipes are drained before waiting: a child blocked on a full pipe never exits.
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

    /// A fresh directory under the system temp dir; the caller removes it.
    package static func makeTemporaryDirectory(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
