import BusConfigFile
import BusDomain
import Crypto
import Foundation

/// The auth file (`--auth FILE`): who may spawn, who may open chests, how receipts are signed.
/// Every key file it names is read and parsed here, once, at startup; nothing is read later.
package struct AuthFile: Sendable {
    /// The `spawn` section (gateway); nil: the gateway runs open.
    package var spawn: SpawnPolicy?
    /// The `players` section (activation); nil: activation runs open.
    package var players: PlayerPolicy?
    /// The `receipts` section; nil: activations carry no receipt.
    package var receipts: ReceiptSigner?

    package init(spawn: SpawnPolicy? = nil, players: PlayerPolicy? = nil, receipts: ReceiptSigner? = nil) {
        self.spawn = spawn
        self.players = players
        self.receipts = receipts
    }

    /// Reads and parses the file at `path`; paths inside it are relative to its directory.
    /// `regionNames` are the catalog's regions: a client naming another is a startup error
    /// (nil: not judged, for a service that serves no regions).
    package static func load(path: String, regionNames: Set<String>?) throws(ConfigFileError) -> AuthFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(file: path, key: "", message: "cannot read the file: \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try parse(yaml: text, file: path, regionNames: regionNames) { name in
            let url = name.hasPrefix("/") ? URL(fileURLWithPath: name) : directory.appendingPathComponent(name)
            return [UInt8](try Data(contentsOf: url))
        }
    }

    /// Parses auth-file text; `readFile` reads a path named in it (relative to the file).
    package static func parse(
        yaml: String, file: String, regionNames: Set<String>?, readFile: @escaping (String) throws -> [UInt8]
    ) throws(ConfigFileError) -> AuthFile {
        try AuthFileReader(yaml: ConfigFileReader(file: file), regionNames: regionNames, readFile: readFile).read(yaml)
    }
}

/// The `spawn` section: game-server clients and their regions.
package struct SpawnPolicy: Sendable {
    package let clients: [SpawnClient]

    package init(clients: [SpawnClient]) { self.clients = clients }
}

/// One game server allowed to post spawns.
package struct SpawnClient: Sendable, Equatable {
    /// `[a-z0-9-]{1,63}`; shows in logs, metrics and the `source` field of entries.
    package let name: String
    /// SHA-256 digests of its accepted tokens (more than one while a token is rotated).
    package let tokenHashes: [[UInt8]]
    /// The regions it may spawn into.
    package let regions: RegionGrant

    package init(name: String, tokenHashes: [[UInt8]], regions: RegionGrant) {
        self.name = name
        self.tokenHashes = tokenHashes
        self.regions = regions
    }
}

/// The regions a client may use: named ones, or all (`["*"]`).
package enum RegionGrant: Sendable, Equatable {
    case all
    case only(Set<String>)

    /// True when a client with this grant may spawn into `region`.
    package func allows(_ region: String) -> Bool {
        switch self {
        case .all: true
        case .only(let names): names.contains(region)
        }
    }
}

/// The `players` section, its keys loaded.
package struct PlayerPolicy: Sendable {
    /// The JWT's `iss` must equal this.
    package let issuer: String
    /// The JWT's `aud` must be, or contain, this.
    package let audience: String
    /// Public keys from `jwks_file`, by `kid` (may be empty when only HS256 is configured).
    package let keys: [String: VerificationKey]
    /// The HS256 secret from `hs256_secret_file`, when given.
    package let hs256Secret: SymmetricKey?
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    package let leewaySeconds: Int
    /// The per-player activation bucket; nil: unlimited.
    package let activationLimit: BucketLimit?

    package init(
        issuer: String, audience: String, keys: [String: VerificationKey], hs256Secret: SymmetricKey? = nil,
        leewaySeconds: Int = 30, activationLimit: BucketLimit? = nil
    ) {
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.hs256Secret = hs256Secret
        self.leewaySeconds = leewaySeconds
        self.activationLimit = activationLimit
    }
}

/// A token bucket: refills at `perSecond`, holds at most `burst`.
package struct BucketLimit: Sendable, Equatable {
    package let perSecond: Double
    package let burst: Int

    package init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }
}
