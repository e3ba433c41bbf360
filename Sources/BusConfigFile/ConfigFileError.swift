/// A mistake in a configuration file (a region file, the auth file), naming the file and the
/// key: the process refuses to start (exit 2) and prints `description`.
package struct ConfigFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's path as given (for a regions directory that cannot be read, the directory).
    package let file: String
    /// The dotted key, e.g. `consumer.backoff.jitter` or `spawn.clients[0].token_sha256`; empty
    /// for the whole file.
    package let key: String
    /// What is wrong, ending with ` (line N)` when a YAML node marks the place.
    package let message: String

    package init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    /// `file: key: message`, or `file: message` for the whole file.
    package var description: String { key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)" }
}
