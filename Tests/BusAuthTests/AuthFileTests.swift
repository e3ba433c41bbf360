import BusAuth
import BusConfigFile
import Crypto
import CryptoExtras
import Foundation
import Testing

@Suite("The auth file")
struct AuthFileTests {
    static let regions: Set<String> = ["emerald-coast", "ruby-desert"]
    static let hashA = String(repeating: "ab", count: 32)
    static let hashB = String(repeating: "0F", count: 32)

    /// A directory holding a JWKS, an HS256 secret and a receipt key next to the auth file.
    final class Directory {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try write("jwks.json", TestKeys.jwks)
            try write("secret", String(decoding: TestKeys.hmacSecret, as: UTF8.self) + "\n")
            try write("receipts.pem", Curve25519.Signing.PrivateKey().pemRepresentation)
        }
        deinit { try? FileManager.default.removeItem(at: url) }

        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: url.appendingPathComponent(name))
        }

        func load(_ yaml: String) throws(ConfigFileError) -> AuthFile {
            let path = url.appendingPathComponent("auth.yaml").path
            try? Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
            return try AuthFile.load(path: path, regionNames: AuthFileTests.regions)
        }
    }

    static let full = """
        spawn:
          clients:
            - name: gs-emerald-1
              token_sha256: \(hashA)
              regions: [emerald-coast]
            - name: gs-all
              token_sha256: [\(hashB), \(String(repeating: "cd", count: 32))]
              regions: ["*"]
        players:
          issuer: https://auth.example.com
          audience: biomebus
          jwks_file: jwks.json
          hs256_secret_file: secret
          leeway_s: 10
          limits:
            activations: { per_second: 2.0, burst: 5 }
        receipts:
          ed25519_private_key_file: receipts.pem
          key_id: r1
        """

    @Test("the contract's example parses: clients, players with keys from files, limits, receipts")
    func parsesFullFile() throws {
        let directory = try Directory()
        let auth = try directory.load(Self.full)
        let clients = try #require(auth.spawn).clients
        #expect(clients.map(\.name) == ["gs-emerald-1", "gs-all"])
        #expect(clients[0].regions == .only(["emerald-coast"]) && clients[1].regions == .all)
        #expect(clients[1].tokenHashes.count == 2 && clients[1].tokenHashes[0] == Array(repeating: 0x0f, count: 32))
        let players = try #require(auth.players)
        #expect(players.issuer == "https://auth.example.com" && players.audience == "biomebus")
        #expect(Set(players.keys.keys) == ["rsa-1", "ec-1", "ed-1"])
        #expect(players.hs256Secret != nil && players.leewaySeconds == 10)
        #expect(players.activationLimit == BucketLimit(perSecond: 2.0, burst: 5))
        #expect(try #require(auth.receipts).keyID == "r1")
        // The secret's trailing newline is not part of it: an HS256 token made with the bare
        // secret verifies.
        #expect(
            PlayerAuthenticator(policy: players).verify(
                token: TestKeys.token(alg: "HS256", kid: nil), now: TestKeys.now
            ).isSuccess)
    }

    @Test("sections are optional; hs256_secret_file may be null; leeway defaults to 30")
    func optionalSections() throws {
        let directory = try Directory()
        let auth = try directory.load(
            "players:\n  issuer: i\n  audience: a\n  jwks_file: jwks.json\n  hs256_secret_file: null\n")
        #expect(auth.spawn == nil && auth.receipts == nil)
        #expect(
            auth.players?.hs256Secret == nil && auth.players?.leewaySeconds == 30
                && auth.players?.activationLimit == nil)
    }

    /// Each startup error names the file and the key.
    @Test(
        "startup errors name the file and the key",
        arguments: [
            ("spawn:\n  clients: []\n", "spawn.clients"),
            ("tokens: {}\n", "tokens"),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: \(hashA)\n      regions: [emerald-coast]\n      extra: 1\n",
                "spawn.clients[0].extra"
            ),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: abc\n      regions: [emerald-coast]\n",
                "spawn.clients[0].token_sha256"
            ),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: \(String(repeating: "g", count: 64))\n      regions: [emerald-coast]\n",
                "spawn.clients[0].token_sha256"
            ),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: \(hashA)\n      regions: [atlantis]\n",
                "spawn.clients[0].regions"
            ),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: \(hashA)\n      regions: []\n",
                "spawn.clients[0].regions"
            ),
            (
                "spawn:\n  clients:\n    - name: Bad_Name\n      token_sha256: \(hashA)\n      regions: [\"*\"]\n",
                "spawn.clients[0].name"
            ),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: \(hashA)\n      regions: [\"*\"]\n    - name: a\n      token_sha256: \(hashB)\n      regions: [\"*\"]\n",
                "spawn.clients[1].name"
            ),
            (
                "spawn:\n  clients:\n    - name: a\n      token_sha256: \(hashA)\n      regions: [\"*\"]\n    - name: b\n      token_sha256: \(hashA)\n      regions: [\"*\"]\n",
                "spawn.clients[1].token_sha256"
            ),
            ("players:\n  issuer: i\n  audience: a\n  jwks_file: missing.json\n", "players.jwks_file"),
            ("players:\n  issuer: i\n  audience: a\n  jwks_file: receipts.pem\n", "players.jwks_file"),
            ("players:\n  issuer: i\n  audience: a\n  jwks_file: nokeys.json\n", "players.jwks_file"),
            ("players:\n  issuer: i\n  audience: a\n  hs256_secret_file: missing\n", "players.hs256_secret_file"),
            ("players:\n  issuer: i\n  audience: a\n  hs256_secret_file: short\n", "players.hs256_secret_file"),
            ("players:\n  issuer: i\n  audience: a\n", "players"),
            ("players:\n  audience: a\n  jwks_file: jwks.json\n", "players.issuer"),
            ("players:\n  issuer: i\n  audience: a\n  jwks_file: jwks.json\n  leeway: 5\n", "players.leeway"),
            (
                "players:\n  issuer: i\n  audience: a\n  jwks_file: jwks.json\n  limits:\n    activations: { per_second: 0, burst: 5 }\n",
                "players.limits.activations.per_second"
            ),
            ("receipts:\n  ed25519_private_key_file: jwks.json\n  key_id: r1\n", "receipts.ed25519_private_key_file"),
            ("receipts:\n  ed25519_private_key_file: missing.pem\n  key_id: r1\n", "receipts.ed25519_private_key_file"),
            ("receipts:\n  ed25519_private_key_file: receipts.pem\n", "receipts.key_id"),
        ])
    func startupErrors(yaml: String, key: String) throws {
        let directory = try Directory()
        try directory.write(
            "nokeys.json", #"{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"},{"kty":"RSA","use":"enc","kid":"e"}]}"#)
        try directory.write("short", "too short\n")
        #expect {
            try directory.load(yaml)
        } throws: { error in
            guard let error = error as? ConfigFileError else { return false }
            return error.key == key && error.file.hasSuffix("auth.yaml")
                && error.description.contains("auth.yaml: \(key)")
        }
    }

    @Test("a value out of range reads like a region file's: the range, what was given, the line")
    func outOfRangeMessage() throws {
        let directory = try Directory()
        #expect {
            try directory.load("players:\n  issuer: i\n  audience: a\n  jwks_file: jwks.json\n  leeway_s: 5000\n")
        } throws: { error in
            (error as? ConfigFileError)?.description.hasSuffix(
                "auth.yaml: players.leeway_s: expected an integer from 0 to 3600, got 5000 (line 5)") == true
        }
    }

    @Test("a JWKS without a usable key says so, and why keys were skipped")
    func jwksWithoutUsableKey() {
        #expect(throws: JWKSet.Invalid.self) { try JWKSet(document: Array(#"{"keys":[]}"#.utf8)) }
        #expect(throws: JWKSet.Invalid.self) { try JWKSet(document: Array("[]".utf8)) }
        do {
            _ = try JWKSet(
                document: Array(#"{"keys":[{"kty":"EC","crv":"P-384","kid":"p384","x":"AA","y":"AA"}]}"#.utf8))
            Issue.record("accepted a JWKS with only a P-384 key")
        } catch {
            #expect(error.message.contains("no usable signing key") && error.message.contains("p384"))
        }
    }

    @Test("malformed supported keys, an alg that does not fit the key, and duplicate kids are errors")
    func jwksErrors() throws {
        let good = try JWKSet(document: Array(TestKeys.jwks.utf8))
        #expect(good.keys.count == 3 && good.skipped.isEmpty)
        let ed = Base64URL.encode(TestKeys.ed25519.publicKey.rawRepresentation)
        for document in [
            #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"AAAA"}]}"#,
            #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"\#(ed)","alg":"RS256"}]}"#,
            #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"\#(ed)"},{"kty":"OKP","crv":"Ed25519","kid":"a","x":"\#(ed)"}]}"#,
            #"{"keys":[{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}]}"#,
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"off","x":"\#(Base64URL.encode([UInt8](repeating: 1, count: 32)))","y":"\#(Base64URL.encode([UInt8](repeating: 2, count: 32)))"}]}"#,
        ] {
            #expect(throws: JWKSet.Invalid.self, "\(document)") { try JWKSet(document: Array(document.utf8)) }
        }
        // A JWK declaring HS256 (a shared JWKS may hold one) is skipped, never used.
        let mixed = try JWKSet(
            document: Array(
                #"{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"AA"},{"kty":"OKP","crv":"Ed25519","kid":"e","x":"\#(ed)"}]}"#
                    .utf8))
        #expect(Array(mixed.keys.keys) == ["e"] && mixed.skipped.count == 1)
    }
}
