import BusAuth
import Testing

@Suite("Game-server clients")
struct SpawnAuthenticatorTests {
    static let emeraldToken = ClientTokenMint.newToken()
    static let allToken = ClientTokenMint.newToken()
    static let rotatedToken = ClientTokenMint.newToken()

    static func hash(_ token: String) -> [UInt8] {
        let hex = Array(ClientTokenMint.hash(of: token).utf8)
        return stride(from: 0, to: 64, by: 2).map {
            UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    let authenticator = SpawnAuthenticator(
        policy: SpawnPolicy(clients: [
            SpawnClient(name: "gs-emerald-1", tokenHashes: [hash(emeraldToken)], regions: .only(["emerald-coast"])),
            SpawnClient(name: "gs-all", tokenHashes: [hash(allToken), hash(rotatedToken)], regions: .all),
        ]))

    @Test("a known token admits its client; the client name is the identity")
    func admits() throws {
        let client = try authenticator.admit(authorization: "Bearer \(Self.emeraldToken)").get()
        #expect(client.name == "gs-emerald-1")
        #expect(try authenticator.admit(authorization: "Bearer \(Self.allToken)").get().name == "gs-all")
        #expect(
            try authenticator.admit(authorization: "Bearer \(Self.rotatedToken)").get().name == "gs-all",
            "a second hash of a client (rotation) admits it too")
    }

    @Test("missing, malformed or unknown tokens: 401 with the bare Bearer challenge")
    func refuses() {
        let cases: [(String?, UnauthorizedReason)] = [
            (nil, .noCredentials), ("Basic Zm9vOmJhcg==", .noCredentials), ("Bearer", .unknownClient),
            ("Bearer ", .unknownClient), ("Bearer a b", .unknownClient), ("Bearer tok\u{e9}n", .unknownClient),
            ("Bearer \(ClientTokenMint.newToken())", .unknownClient), ("Bearer \(Self.emeraldToken)x", .unknownClient),
            ("Bearer \(Self.emeraldToken.dropLast())", .unknownClient),
        ]
        for (header, reason) in cases {
            let refusal = authenticator.admit(authorization: header).refusal
            #expect(refusal == .unauthorized(reason), "\(header ?? "nil")")
            #expect(refusal?.status == 401 && refusal?.code == "unauthorized")
            #expect(refusal?.headers.map(\.name) == ["WWW-Authenticate"])
            #expect(refusal?.headers.first?.value == #"Bearer realm="biomebus""#)
        }
    }

    @Test("regions: a client may use only its named regions, or all with *")
    func regions() throws {
        let emerald = try authenticator.admit(authorization: "Bearer \(Self.emeraldToken)").get()
        #expect(emerald.authorize(region: "emerald-coast").isSuccess)
        let refusal = emerald.authorize(region: "ruby-desert").refusal
        #expect(refusal == .regionForbidden(client: "gs-emerald-1", region: "ruby-desert"))
        #expect(refusal?.status == 403 && refusal?.code == "region_forbidden" && refusal?.headers.isEmpty == true)
        let all = try authenticator.admit(authorization: "Bearer \(Self.allToken)").get()
        #expect(all.authorize(region: "ruby-desert").isSuccess && all.authorize(region: "emerald-coast").isSuccess)
    }

    @Test("the Bearer scheme is case-insensitive and the token is a b64token (RFC 6750 §2.1)")
    func bearerSyntax() {
        #expect(BearerCredentials(authorization: "bEaReR abc") == .token("abc"))
        #expect(BearerCredentials(authorization: "Bearer a-b.c_d~e+f/g==") == .token("a-b.c_d~e+f/g=="))
        #expect(BearerCredentials(authorization: "Bearer ==") == .malformed)
        #expect(BearerCredentials(authorization: "Bearer a=b") == .malformed)
        #expect(BearerCredentials(authorization: "Bearerabc") == .absent)
        #expect(BearerCredentials(authorization: "Bearer abc ") == .malformed)
        #expect(BearerCredentials(authorization: "") == .absent)
    }

    @Test("new-client tokens: 256 random bits, URL-safe, and their entry admits them")
    func mint() throws {
        let tokens = (0..<64).map { _ in ClientTokenMint.newToken() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(Base64URL.decode(token)?.count == 32)
            #expect(
                token.utf8.allSatisfy {
                    $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39)
                        || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a)
                })
        }
        let token = tokens[0]
        let entry = ClientTokenMint.entry(name: "gs-new", token: token, regions: ["emerald-coast"])
        #expect(!entry.contains(token), "the entry holds the hash, never the token")
        let file = try AuthFile.parse(
            yaml: "spawn:\n  clients:\n" + entry.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"),
            file: "auth.yaml", regionNames: ["emerald-coast"], readFile: { _ in [] })
        let admitted = try SpawnAuthenticator(policy: try #require(file.spawn)).admit(authorization: "Bearer \(token)")
            .get()
        #expect(admitted.name == "gs-new" && admitted.regions == .only(["emerald-coast"]))
        #expect(ClientTokenMint.entry(name: "gs-x", token: token, regions: []).contains(#"regions: ["*"]"#))
        // The SHA-256 of "test" (FIPS 180-2 style check value), lowercase hex.
        #expect(ClientTokenMint.hash(of: "test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    }
}
