import BusDomain
import Crypto
import CryptoExtras
import Yams

/// Reads the auth file's YAML tree strictly: unknown keys, wrong types and bad values are
/// `AuthFileError`s naming the file, the key and the line.
struct AuthFileReader {
    let file: String
    /// nil: region names are not judged (activation, which serves no regions).
    let regionNames: Set<String>?
    let readFile: (String) throws -> [UInt8]

    /// The smallest HS256 secret taken: as long as the hash output (RFC 7518 §3.2).
    static let minimumSecretBytes = 32

    func read(_ text: String) throws(AuthFileError) -> AuthFile {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw error("", "file is empty") }
            root = node
        } catch let error as AuthFileError {
            throw error
        } catch {
            throw self.error("", "not valid YAML: \(error)")
        }
        let top = try mapping(root, path: "", allowed: ["spawn", "players", "receipts"])
        guard !top.isEmpty else { throw error("", "expected at least one of spawn, players, receipts") }
        var auth = AuthFile()
        if let node = top["spawn"] { auth.spawn = try spawn(node) }
        if let node = top["players"] { auth.players = try players(node) }
        if let node = top["receipts"] { auth.receipts = try receipts(node) }
        return auth
    }

    // MARK: - Sections

    private func spawn(_ node: Node) throws(AuthFileError) -> SpawnPolicy {
        let section = try mapping(node, path: "spawn", allowed: ["clients"])
        guard case .sequence(let entries)? = section["clients"], !entries.isEmpty else {
            throw error("spawn.clients", "expected a list of at least one client", section["clients"] ?? node)
        }
        var clients: [SpawnClient] = []
        var seenHashes: Set<[UInt8]> = []
        for (index, entry) in entries.enumerated() {
            let path = "spawn.clients[\(index)]"
            let map = try mapping(entry, path: path, allowed: ["name", "token_sha256", "regions"])
            let name = try string(map["name"], path: "\(path).name")
            guard Identifiers.isValidRegionName(name) else {
                throw error("\(path).name", "expected 1 to 63 characters from [a-z0-9-], got \"\(name)\"", map["name"])
            }
            guard !clients.contains(where: { $0.name == name }) else {
                throw error("\(path).name", "client \"\(name)\" appears twice", map["name"])
            }
            let hashes = try tokenHashes(map["token_sha256"], path: "\(path).token_sha256")
            for hash in hashes {
                guard seenHashes.insert(hash).inserted else {
                    throw error(
                        "\(path).token_sha256", "this token hash is already another client's", map["token_sha256"])
                }
            }
            let regions = try regionGrant(map["regions"], path: "\(path).regions")
            clients.append(SpawnClient(name: name, tokenHashes: hashes, regions: regions))
        }
        return SpawnPolicy(clients: clients)
    }

    private func players(_ node: Node) throws(AuthFileError) -> PlayerPolicy {
        let map = try mapping(
            node, path: "players",
            allowed: ["issuer", "audience", "jwks_file", "hs256_secret_file", "leeway_s", "limits"])
        let issuer = try string(map["issuer"], path: "players.issuer")
        let audience = try string(map["audience"], path: "players.audience")
        guard !issuer.isEmpty else { throw error("players.issuer", "must not be empty", map["issuer"]) }
        guard !audience.isEmpty else { throw error("players.audience", "must not be empty", map["audience"]) }
        let jwksPath = try optionalString(map["jwks_file"], path: "players.jwks_file")
        let secretPath = try optionalString(map["hs256_secret_file"], path: "players.hs256_secret_file")
        guard jwksPath != nil || secretPath != nil else {
            throw error("players", "expected jwks_file or hs256_secret_file (at least one)", node)
        }
        var keys: [String: VerificationKey] = [:]
        if let jwksPath {
            let document = try contents(of: jwksPath, key: "players.jwks_file", node: map["jwks_file"])
            do {
                keys = try JWKSet(document: document).keys
            } catch {
                throw self.error("players.jwks_file", "\(jwksPath): \(error.message)", map["jwks_file"])
            }
        }
        var secret: SymmetricKey?
        if let secretPath {
            var bytes = try contents(of: secretPath, key: "players.hs256_secret_file", node: map["hs256_secret_file"])
            // A secret written with `echo` ends in a newline that is not part of it.
            if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard bytes.count >= Self.minimumSecretBytes else {
                throw error(
                    "players.hs256_secret_file",
                    "\(secretPath): the secret must be at least \(Self.minimumSecretBytes) bytes",
                    map["hs256_secret_file"])
            }
            secret = SymmetricKey(data: bytes)
        }
        let leeway = try int(map["leeway_s"], path: "players.leeway_s", range: 0...3600) ?? 30
        var limit: BucketLimit?
        if let limitsNode = map["limits"] {
            let limits = try mapping(limitsNode, path: "players.limits", allowed: ["activations"])
            if let node = limits["activations"] {
                let bucket = try mapping(node, path: "players.limits.activations", allowed: ["per_second", "burst"])
                guard
                    let perSecond = try double(
                        bucket["per_second"], path: "players.limits.activations.per_second", range: 0.001...1_000_000),
                    let burst = try int(bucket["burst"], path: "players.limits.activations.burst", range: 1...1_000_000)
                else {
                    throw error("players.limits.activations", "expected per_second and burst", node)
                }
                limit = BucketLimit(perSecond: perSecond, burst: burst)
            }
        }
        return PlayerPolicy(
            issuer: issuer, audience: audience, keys: keys, hs256Secret: secret, leewaySeconds: leeway,
            activationLimit: limit)
    }

    private func receipts(_ node: Node) throws(AuthFileError) -> ReceiptSigner {
        let map = try mapping(node, path: "receipts", allowed: ["ed25519_private_key_file", "key_id"])
        let keyPath = try string(map["ed25519_private_key_file"], path: "receipts.ed25519_private_key_file")
        let keyID = try string(map["key_id"], path: "receipts.key_id")
        guard !keyID.isEmpty else { throw error("receipts.key_id", "must not be empty", map["key_id"]) }
        let pem = try contents(
            of: keyPath, key: "receipts.ed25519_private_key_file", node: map["ed25519_private_key_file"])
        do {
            let key = try Curve25519.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
            return ReceiptSigner(privateKey: key, keyID: keyID)
        } catch {
            throw self.error(
                "receipts.ed25519_private_key_file", "\(keyPath): not an Ed25519 PKCS#8 PEM private key",
                map["ed25519_private_key_file"])
        }
    }

    // MARK: - Values

    private func tokenHashes(_ node: Node?, path: String) throws(AuthFileError) -> [[UInt8]] {
        guard let node else { throw error(path, "required key is missing") }
        // One hash, or a list while a client's token is rotated (old and new both accepted).
        let items: [Node]
        if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
        guard !items.isEmpty else { throw error(path, "expected at least one token hash", node) }
        var hashes: [[UInt8]] = []
        for item in items {
            let text = try string(item, path: path)
            guard let hash = Self.hexDigest(text) else {
                throw error(
                    path, "expected 64 hex digits (the SHA-256 of the token), got \(text.count) characters", item)
            }
            hashes.append(hash)
        }
        return hashes
    }

    private func regionGrant(_ node: Node?, path: String) throws(AuthFileError) -> RegionGrant {
        guard case .sequence(let sequence)? = node, !sequence.isEmpty else {
            throw error(path, "expected a list of region names, or [\"*\"]", node)
        }
        var names: Set<String> = []
        for element in sequence {
            let name = try string(element, path: path)
            if name == "*" {
                guard sequence.count == 1 else { throw error(path, "\"*\" stands alone", element) }
                return .all
            }
            if let regionNames, !regionNames.contains(name) {
                throw error(
                    path, "unknown region \"\(name)\" (known: \(regionNames.sorted().joined(separator: ", ")))", element
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

    private func contents(of path: String, key: String, node: Node?) throws(AuthFileError) -> [UInt8] {
        do {
            return try readFile(path)
        } catch {
            throw self.error(key, "cannot read \(path): \(error.localizedDescription)", node)
        }
    }

    // MARK: - YAML access

    private func error(_ path: String, _ message: String, _ node: Node? = nil) -> AuthFileError {
        let location = node?.mark.map { " (line \($0.line))" } ?? ""
        return AuthFileError(file: file, key: path, message: message + location)
    }

    private func mapping(_ node: Node, path: String, allowed: Set<String>) throws(AuthFileError) -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw error(path, "expected a mapping of keys", node) }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw error(path, "keys must be plain strings", keyNode) }
            let key = scalar.string
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw error(
                    keyPath, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))", keyNode)
            }
            guard result[key] == nil else { throw error(keyPath, "key appears twice", keyNode) }
            result[key] = value
        }
        return result
    }

    private func string(_ node: Node?, path: String) throws(AuthFileError) -> String {
        guard let node else { throw error(path, "required key is missing") }
        guard case .scalar(let scalar) = node, node.hasTag(.str) else { throw error(path, "expected a string", node) }
        return scalar.string
    }

    /// A string, or nil when the key is absent or `null`.
    private func optionalString(_ node: Node?, path: String) throws(AuthFileError) -> String? {
        guard let node, !node.hasTag(.null) else { return nil }
        return try string(node, path: path)
    }

    private func int(_ node: Node?, path: String, range: ClosedRange<Int>) throws(AuthFileError) -> Int? {
        guard let node else { return nil }
        guard node.hasTag(.int), let value = node.int, range.contains(value) else {
            throw error(path, "expected an integer from \(range.lowerBound) to \(range.upperBound)", node)
        }
        return value
    }

    private func double(_ node: Node?, path: String, range: ClosedRange<Double>) throws(AuthFileError) -> Double? {
        guard let node else { return nil }
        guard node.hasTag(.float) || node.hasTag(.int), let value = node.float, value.isFinite,
            range.contains(value)
        else {
            throw error(path, "expected a number from \(range.lowerBound) to \(range.upperBound)", node)
        }
        return value
    }
}

extension Node {
    /// True when the node's resolved tag is `name` (`!!int`, `!!str` …).
    fileprivate func hasTag(_ name: Tag.Name) -> Bool {
        tag.description == name.rawValue
    }
}
