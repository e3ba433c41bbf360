// libFuzzer target for BusAuth's parsers of untrusted input (built only by scripts/fuzz):
// compact JWS (CompactJWS, Base64URL), JWT verification (PlayerAuthenticator), JWKS documents
// (JWKSet) and Authorization headers (BearerCredentials).
//
// The input is tried as a token, as a JWKS document and as a header value.
// Oracles: nothing traps; every base64url part that decodes re-encodes to itself (one spelling
// per value); a parsed JWS signs a prefix of its own text; no input ever verifies (the keys are
// made at start-up, so a success would be a forgery); a Bearer token read from a header is a
// b64token that reads back the same.
import BusAuth
import Crypto
import FuzzSupport

/// Keys made once, in a static (a true global, so LeakSanitizer sees them reachable at exit;
/// top-level variables of main.swift are not).
enum Fixture {
    static let authenticator: PlayerAuthenticator = {
        let ed25519 = Curve25519.Signing.PrivateKey()
        let point = P256.Signing.PrivateKey().publicKey.rawRepresentation
        let jwks = """
            {"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-1","x":"\(Base64URL.encode(ed25519.publicKey.rawRepresentation))"},
            {"kty":"EC","crv":"P-256","kid":"ec-1","x":"\(Base64URL.encode(point.prefix(32)))",\
            "y":"\(Base64URL.encode(point.suffix(32)))"}]}
            """
        return PlayerAuthenticator(
            policy: PlayerPolicy(
                issuer: "https://auth.example.com", audience: "biomebus",
                keys: try! JWKSet(document: Array(jwks.utf8)).keys, hs256Secret: SymmetricKey(size: .bits256)))
    }()
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzJWS(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(data, count)
    let text = String(decoding: bytes, as: UTF8.self)

    for part in text.split(separator: ".", omittingEmptySubsequences: false) {
        if let decoded = Base64URL.decode(part) {
            precondition(Base64URL.encode(decoded) == part, "base64url part does not round-trip: \(part)")
        }
    }
    if let jws = try? CompactJWS(text) {
        precondition(Array(text.utf8).starts(with: jws.signingInput), "signing input is not a prefix of the token")
    }
    if case .success(let identity) = Fixture.authenticator.verify(token: text, now: 1_800_000_000) {
        preconditionFailure("a fuzzed token verified as \(identity.subject)")
    }
    _ = try? JWKSet(document: bytes)
    if case .token(let token) = BearerCredentials(authorization: text) {
        precondition(BearerCredentials(authorization: "Bearer " + token) == .token(token), "token does not read back")
    }
    return 0
}

runFuzzer(fuzzJWS)
