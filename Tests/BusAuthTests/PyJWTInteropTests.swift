import BusAuth
import BusDomain
import BusJSON
import BusTesting
import Crypto
import Foundation
import Testing

/// An independent implementation as the peer: tokens and a JWKS made by Python's PyJWT with
/// `cryptography` are accepted, and a receipt verifies with PyJWT. scripts/bootstrap installs
/// both (`scripts/bootstrap test`).
@Suite("Interoperability with PyJWT", .enabled(if: ProcessTools.find("python3") != nil, "python3 is not installed"))
struct PyJWTInteropTests {
    /// Makes one key of each kind, their JWKS, and a token per algorithm (plus refused ones).
    static let mint = #"""
        import json, sys, time
        import jwt
        from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
        from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519

        out = sys.argv[1]
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ec_key = ec.generate_private_key(ec.SECP256R1())
        ed_key = ed25519.Ed25519PrivateKey.generate()
        secret = "pyjwt-shared-secret-of-at-least-32-bytes"
        keys = []
        for kid, alg, key, algorithm in [("py-rsa", "RS256", rsa_key, RSAAlgorithm), ("py-ec", "ES256", ec_key, ECAlgorithm),
                                         ("py-ed", "EdDSA", ed_key, OKPAlgorithm)]:
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, use="sig", alg=alg)
            keys.append((kid, alg, key, jwk))
        now = int(time.time())
        claims = {"iss": "https://auth.example.com", "aud": ["other", "biomebus"], "sub": "py-player", "iat": now,
                  "nbf": now - 5, "exp": now + 600}
        tokens = {alg: jwt.encode(claims, key, algorithm=alg, headers={"kid": kid}) for kid, alg, key, _ in keys}
        tokens["HS256"] = jwt.encode(claims, secret, algorithm="HS256")
        refused = {
            "expired": jwt.encode(dict(claims, exp=now - 3600, iat=now - 7200, nbf=now - 7200), ed_key, algorithm="EdDSA",
                                  headers={"kid": "py-ed"}),
            "wrong_audience": jwt.encode(dict(claims, aud="someone-else"), rsa_key, algorithm="RS256",
                                         headers={"kid": "py-rsa"}),
            "wrong_secret": jwt.encode(claims, secret + "x", algorithm="HS256", headers={"kid": "py-rsa"}),
        }
        with open(out + "/jwks.json", "w") as f:
            json.dump({"keys": [jwk for _, _, _, jwk in keys]}, f)
        with open(out + "/secret", "w") as f:
            f.write(secret)
        print(json.dumps({"tokens": tokens, "refused": refused}))
        """#

    /// Verifies a receipt against the published JWKS and prints its claims.
    static let verifyReceipt = #"""
        import json, sys
        import jwt
        jwks = jwt.PyJWKSet.from_json(open(sys.argv[1]).read())
        receipt = sys.argv[2]
        kid = jwt.get_unverified_header(receipt)["kid"]
        key = next(k for k in jwks.keys if k.key_id == kid)
        claims = jwt.decode(receipt, key=key, algorithms=["EdDSA"], issuer="biomebus")
        print(json.dumps(claims, sort_keys=True))
        """#

    private func python(_ script: String, _ arguments: [String], in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("script-\(UUID().uuidString).py")
        try Data(script.utf8).write(to: file)
        do {
            return try ProcessTools.run(try ProcessTools.executable("python3"), [file.path] + arguments)
        } catch {
            throw FixtureError("\(error) (PyJWT and cryptography come from `scripts/bootstrap test`)")
        }
    }

    @Test("PyJWT's RS256, ES256, EdDSA and HS256 tokens and its JWKS are accepted; its bad tokens are not")
    func acceptsPyJWTTokens() throws {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-pyjwt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try JSONParser.parse(Array(try python(Self.mint, [directory.path], in: directory).utf8))
        let authFile = directory.appendingPathComponent("auth.yaml")
        try Data(
            """
            players:
              issuer: https://auth.example.com
              audience: biomebus
              jwks_file: jwks.json
              hs256_secret_file: secret
            """.utf8
        ).write(to: authFile)
        let policy = try #require(try AuthFile.load(path: authFile.path, regionNames: []).players)
        let authenticator = PlayerAuthenticator(policy: policy)
        let now = Date().timeIntervalSince1970
        for alg in ["RS256", "ES256", "EdDSA", "HS256"] {
            guard case .string(let token)? = output["tokens"]?[alg] else {
                Issue.record("PyJWT made no \(alg) token")
                continue
            }
            #expect(
                authenticator.verify(authorization: "Bearer \(token)", now: now)
                    == .success(PlayerIdentity(subject: "py-player")), "\(alg)")
        }
        let expected: [String: InvalidToken] = [
            "expired": .expired, "wrong_audience": .wrongAudience, "wrong_secret": .badSignature,
        ]
        for (name, reason) in expected {
            guard case .string(let token)? = output["refused"]?[name] else {
                Issue.record("PyJWT made no \(name) token")
                continue
            }
            #expect(authenticator.verify(token: token, now: now) == .failure(reason), "\(name)")
        }
    }

    @Test("a receipt verifies with PyJWT against the served JWKS, claims intact")
    func receiptVerifiesWithPyJWT() throws {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-pyjwt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let signer = ReceiptSigner(privateKey: Curve25519.Signing.PrivateKey(), keyID: "r1")
        let jwks = directory.appendingPathComponent("receipts-jwks.json")
        try Data(signer.jwksDocument).write(to: jwks)
        let issuedAt = Int64(Date().timeIntervalSince1970)
        let receipt = signer.sign(player: "p-1", biomeID: 53, chestID: "c-9", version: 2, issuedAt: issuedAt)
        let claims = try python(Self.verifyReceipt, [jwks.path, receipt], in: directory)
        #expect(
            claims.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"biome_id": 53, "chest_id": "c-9", "iat": \#(issuedAt), "iss": "biomebus", "sub": "p-1", "version": 2}"#
        )
        // A tampered receipt is refused by PyJWT too.
        let parts = receipt.split(separator: ".")
        let tampered =
            parts[0] + "." + Base64URL.encode(Array(#"{"iss":"biomebus","sub":"p-1","version":3}"#.utf8)) + "."
            + parts[2]
        #expect(throws: FixtureError.self) {
            try python(Self.verifyReceipt, [jwks.path, String(tampered)], in: directory)
        }
    }
}
