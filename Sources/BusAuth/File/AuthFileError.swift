/// A startup error in the auth file, naming the file and the key (the process exits 2).
public struct AuthFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The auth file's path as given.
    public let file: String
    /// The dotted key, e.g. `spawn.clients[0].token_sha256`; empty for the whole file.
    public let key: String
    public let message: String

    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String { key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)" }
}
