import BusConfigFile
import BusDomain
import Crypto
import CryptoExtras
import Yams

/// Reads the auth file's YAML tree strictly: unknown keys, wrong types and bad values are
/// `ConfigFileError`s naming the file, the key and the line.
struct AuthFileReader {
    /// The strict YAML access every config file shares; its errors name this file.
    let yaml: ConfigFileReader
    /// nil: region names are not judged (activation, which serves no regions).
    let regionNames: Set<String>?
    let readFile: (String) throws -> [UInt8]

    /// The smallest HS256 secret taken: as long as the hash output (RFC 7518 §3.2).
    static let minimumSecretBytes = 32

    func read(_ text: String) throws(ConfigFileError) -> AuthFile {
        let root = try yaml.root(of: text)
        let top = try yaml.mapping(root, key: "", allowed: ["spawn", "players", "receipts"])
        guard !top.isEmpty else { throw yaml.error("", "expected at least one of spawn, players, receipts") }
        var auth = AuthFile()
        if let node = top["spawn"] { auth.spawn = try spawn(node) }
        if let node = top["players"] { auth.players = try players(node) }
        if let node = top["receipts"] { auth.receipts = try receipts(node) }
        return auth
    }

    // MARK: - Sections

    private func spawn(_ node: Node) throws(ConfigFileError) -> SpawnPolicy {
        let section = try yaml.mapping(node, key: "spawn", allowed: ["clients"])
        guard case .sequence(let entries)? = section["clients"], !entries.isEmpty else {
            throw yaml.error("spawn.clients", "expected a list of at least one client", section["clients"] ?? node)
        }
        var clients: [SpawnClient] = []
        var seenHashes: Set<[UInt8]> = []
        for (index, entry) in entries.enumerated() {
            let path = "spawn.clients[\(index)]"
            let map = try yaml.mapping(entry, key: path, allowed: ["name", "token_sha256", "regions"])
            let name = try yaml.string(map["name"], key: "\(path).name")
            guard Identifiers.isValidRegionName(name) else {
                throw yaml.error(
                    "\(path).name", "expected 1 to 63 characters from [a-z0-9-], got \"\(name)\"", map["name"])
            }
            guard !clients.contains(where: { $0.name == name }) else {
                throw yaml.error("\(path).name", "client \"\(name)\" appears twice", map["name"])
            }
            let hashes = try tokenHashes(map["token_sha256"], key: "\(path).token_sha256")
            for hash in hashes {
                guard seenHashes.insert(hash).inserted else {
                    throw yaml.error(
                        "\(path).token_sha256", "this token hash is already another client's", map["token_sha256"])
                }
            }
            let regions = try regionGrant(map["regions"], key: "\(path).regions")
            clients.append(SpawnClient(name: name, tokenHashes: hashes, regions: regions))
        }
        return SpawnPolicy(clients: clients)
    }

    private func players(_ node: Node) throws(ConfigFileError) -> PlayerPolicy {
        let map = try yaml.mapping(
            node, key: "players",
            allowed: ["issuer", "audience", "jwks_file", "hs256_secret_file", "leeway_s", "limits"])
        let issuer = try yaml.string(map["issuer"], key: "players.issuer")
        let audience = try yaml.string(map["audience"], key: "players.audience")
        guard !issuer.isEmpty else { throw yaml.error("players.issuer", "must not be empty", map["issuer"]) }
        guard !audience.isEmpty else { throw yaml.error("players.audience", "must not be empty", map["audience"]) }
        let jwksPath = try yaml.optionalString(map["jwks_file"], key: "players.jwks_file")
        let secretPath = try yaml.optionalString(map["hs256_secret_file"], key: "players.hs256_secret_file")
        guard jwksPath != nil || secretPath != nil else {
            throw yaml.error("players", "expected jwks_file or hs256_secret_file (at least one)", node)
        }
        var keys: [String: VerificationKey] = [:]
        if let jwksPath {
            let document = try contents(of: jwksPath, key: "players.jwks_file", node: map["jwks_file"])
            do {
                keys = try JWKSet(document: document).keys
            } catch {
                throw yaml.error("players.jwks_file", "\(jwksPath): \(error.message)", map["jwks_file"])
            }
        }
        var secret: SymmetricKey?
        if let secretPath {
            var bytes = try contents(of: secretPath, key: "players.hs256_secret_file", node: map["hs256_secret_file"])
            // A secret written with `echo` ends in a newline that is not part of it.
            if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard bytes.count >= Self.minimumSecretBytes else {
                throw yaml.error(
                    "players.hs256_secret_file",
                    "\(secretPath): the secret must be at least \(Self.minimumSecretBytes) bytes",
                    map["hs256_secret_file"])
            }
            secret = SymmetricKey(data: bytes)
        }
        let leeway = try yaml.int(map["leeway_s"], key: "players.leeway_s", range: 0...3600) ?? 30
        var limit: BucketLimit?
        if let limitsNode = map["limits"] {
            let limits = try yaml.mapping(limitsNode, key: "players.limits", allowed: ["activations"])
            if let node = limits["activations"] {
                let bucket = try yaml.mapping(
                    node, key: "players.limits.activations", allowed: ["per_second", "burst"])
                guard
                    let perSecond = try yaml.double(
                        bucket["per_second"], key: "players.limits.activations.per_second", range: 0.001...1_000_000),
                    let burst = try yaml.int(
                        bucket["burst"], key: "players.limits.activations.burst", range: 1...1_000_000)
                else {
                    throw yaml.error("players.limits.activations", "expected per_second and burst", node)
                }
                limit = BucketLimit(perSecond: perSecond, burst: burst)
            }
        }
        return PlayerPolicy(
            issuer: issuer, audience: audience, keys: keys, hs256Secret: secret, leewaySeconds: leeway,
            activationLimit: limit)
    }

    private func receipts(_ node: Node) throws(ConfigFileError) -> ReceiptSigner {
        let map = try yaml.mapping(node, key: "receipts", allowed: ["ed25519_private_key_file", "key_id"])
        let keyPath = try yaml.string(map["ed25519_private_key_file"], key: "receipts.ed25519_private_key_file")
        let keyID = try yaml.string(map["key_id"], key: "receipts.key_id")
        guard !keyID.isEmpty else { throw yaml.error("receipts.key_id", "must not be empty", map["key_id"]) }
        let pem = try contents(
            of: keyPath, key: "receipts.ed25519_private_key_file", node: map["ed25519_private_key_file"])
        do {
            let key = try Curve25519.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
            return ReceiptSigner(privateKey: key, keyID: keyID)
        } catch {
            throw yaml.error(
                "receipts.ed25519_private_key_file", "\(keyPath): not an Ed25519 PKCS#8 PEM private key",
                map["ed25519_private_key_file"])
        }
    }

    // MARK: - Values

    private func tokenHashes(_ node: Node?, key: String) throws(ConfigFileError) -> [[UInt8]] {
        guard let node else { throw yaml.error(key, "required key is missing") }
        // One hash, or a list while a client's token is rotated (old and new both accepted).
        let items: [Node]
        if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
        guard !items.isEmpty else { throw yaml.error(key, "expected at least one token hash", node) }
        var hashes: [[UInt8]] = []
        for item in items {
            let text = try yaml.string(item, key: key)
            guard let hash = Self.hexDigest(text) else {
                throw yaml.error(
                    key, "expected 64 hex digits (the SHA-256 of the token), got \(text.count) characters", item)
            }
            hashes.append(hash)
        }
        return hashes
    }

    private func regionGrant(_ node: Node?, key: String) throws(ConfigFileError) -> RegionGrant {
        guard case .sequence(let sequence)? = node, !sequence.isEmpty else {
            throw yaml.error(key, "expected a list of region names, or [\"*\"]", node)
        }
        var names: Set<String> = []
        for element in sequence {
            let name = try yaml.string(element, key: key)
            if name == "*" {
                guard sequence.count == 1 else { throw yaml.error(key, "\"*\" stands alone", element) }
                return .all
            }
            if let regionNames, !regionNames.contains(name) {
                throw yaml.error(
                    key, "unknown region \"\(name)\" (known: \(regionNames.sorted().joined(separator: ", ")))", element
                )
            }
            names.insert(name)
        }
        return .only(names)
    }

    /// The 32 bytes of 64 hex digits (either case), or nil.
    static func hexDigest(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private func contents(of path: String, key: String, node: Node?) throws(ConfigFileError) -> [UInt8] {
        do {
            return try readFile(path)
        } catch {
            throw yaml.error(key, "cannot read \(path): \(error.localizedDescription)", node)
        }
    }
}
