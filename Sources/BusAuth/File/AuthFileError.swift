/// A startup error in the auth file, naming the file and the key (the process exits 2).
package struct AuthFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The auth file's path as given.
    package let file: String
    /// The dotted key, e.g. `spawn.clients[0].token_sha256`; empty for the whole file.
    package let key: String
    package let message: String

    package init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    package var description: String { key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)" }
}
