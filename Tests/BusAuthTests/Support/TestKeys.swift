import BusAuth
import BusDomain
import Crypto
import CryptoExtras
import Foundation

/// Keys generated in the test process, and a minter of compact JWS signed with them: every
/// token a test uses is made here, none is copied from elsewhere.
enum TestKeys {
    // Generated once per test process: an RSA key takes a while in a debug build.
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let p256 = P256.Signing.PrivateKey()
    static let ed25519 = Curve25519.Signing.PrivateKey()
    static let hmacSecret = Array("a shared secret of at least thirty-two bytes!".utf8)

    static let issuer = "https://auth.example.com"
    static let audience = "biomebus"
    static let now: Double = 1_800_000_000

    /// The JWKS of the three public keys, kids `rsa-1`, `ec-1`, `ed-1`.
    static var jwks: String {
        let rsaKey = try! rsa.publicKey.getKeyPrimitives()
        let point = p256.publicKey.rawRepresentation
        return """
            {"keys": [
              {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", \
            "n": "\(Base64URL.encode(rsaKey.modulus))", "e": "\(Base64URL.encode(rsaKey.publicExponent))"},
              {"kty": "EC", "kid": "ec-1", "crv": "P-256", \
            "x": "\(Base64URL.encode(point.prefix(32)))", "y": "\(Base64URL.encode(point.suffix(32)))"},
              {"kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "x": "\(Base64URL.encode(ed25519.publicKey.rawRepresentation))"}
            ]}
            """
    }

    static func policy(hs256: Bool = true, leeway: Int = 30) throws -> PlayerPolicy {
        PlayerPolicy(
            issuer: issuer, audience: audience, keys: try JWKSet(document: Array(jwks.utf8)).keys,
            hs256Secret: hs256 ? SymmetricKey(data: hmacSecret) : nil, leewaySeconds: leeway)
    }

    /// Claims that pass at `now`: `sub` p-1, expiring in an hour. `changes` replace members
    /// (JSON text) or, with nil, remove them.
    static func claims(_ changes: [String: String?] = [:]) -> String {
        var members: [String: String] = [
            "iss": "\"\(issuer)\"", "aud": "\"\(audience)\"", "sub": "\"p-1\"", "exp": String(Int(now) + 3600),
            "iat": String(Int(now) - 10),
        ]
        for (key, value) in changes { members[key] = value }
        return "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            + "}"
    }

    enum Signer {
        case rs256, es256, edDSA
        case hs256([UInt8])
        case none
    }

    /// A compact JWS of `header` and `payload` (JSON text) signed by `signer`.
    static func token(header: String, payload: String, signer: Signer) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let data = Array(input.utf8)
        let signature: [UInt8]
        switch signer {
        case .rs256:
            signature = Array(
                try! rsa.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .es256:
            signature = Array(try! p256.signature(for: SHA256.hash(data: data)).rawRepresentation)
        case .edDSA:
            signature = Array(try! ed25519.signature(for: data))
        case .hs256(let secret):
            signature = Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: secret)))
        case .none:
            signature = []
        }
        return input + "." + Base64URL.encode(signature)
    }

    /// A token signed the way `alg` says (kid in the header when given), with `claims`.
    static func token(alg: String, kid: String?, claims: String = claims()) -> String {
        let header =
            kid.map { #"{"alg":"\#(alg)","kid":"\#($0)","typ":"JWT"}"# } ?? #"{"alg":"\#(alg)","typ":"JWT"}"#
        let signer: Signer =
            switch alg {
            case "RS256": .rs256
            case "ES256": .es256
            case "EdDSA": .edDSA
            case "HS256": .hs256(hmacSecret)
            default: .none
            }
        return token(header: header, payload: claims, signer: signer)
    }
}
