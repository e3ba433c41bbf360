import BusAuth
import Crypto
import CryptoExtras
import Testing

@Suite("Player JWTs")
struct PlayerAuthenticatorTests {
    let authenticator = PlayerAuthenticator(policy: try! TestKeys.policy())
    let now = TestKeys.now

    private func verify(_ token: String, at time: Double? = nil) -> Result<PlayerIdentity, InvalidToken> {
        authenticator.verify(token: token, now: time ?? now)
    }

    @Test("RS256, ES256 and EdDSA tokens verify with the JWKS key of their kid; HS256 with the secret")
    func acceptsEveryAlgorithm() {
        for (alg, kid) in [("RS256", "rsa-1"), ("ES256", "ec-1"), ("EdDSA", "ed-1"), ("HS256", nil)] {
            #expect(verify(TestKeys.token(alg: alg, kid: kid)) == .success(PlayerIdentity(subject: "p-1")), "\(alg)")
        }
    }

    @Test("alg none is refused, signed or not")
    func refusesNone() {
        let unsigned = TestKeys.token(header: #"{"alg":"none"}"#, payload: TestKeys.claims(), signer: .none)
        #expect(verify(unsigned) == .failure(.unsupportedAlgorithm))
        let withKid = TestKeys.token(
            header: #"{"alg":"none","kid":"rsa-1"}"#, payload: TestKeys.claims(), signer: .rs256)
        #expect(verify(withKid) == .failure(.unsupportedAlgorithm))
        let cased = TestKeys.token(header: #"{"alg":"None"}"#, payload: TestKeys.claims(), signer: .none)
        #expect(verify(cased) == .failure(.unsupportedAlgorithm))
    }

    @Test("algorithm confusion: an HS256 token 'signed' with a public key is refused")
    func refusesAlgorithmConfusion() throws {
        let publicPEM = Array(TestKeys.rsa.publicKey.pemRepresentation.utf8)
        let publicDER = Array(TestKeys.rsa.publicKey.derRepresentation)
        for secret in [publicPEM, publicDER, Array(TestKeys.ed25519.publicKey.rawRepresentation)] {
            for kid in ["rsa-1", "ed-1"] {
                let forged = TestKeys.token(
                    header: #"{"alg":"HS256","kid":"\#(kid)"}"#, payload: TestKeys.claims(), signer: .hs256(secret))
                // With a configured HS256 secret, the forgery fails its MAC…
                #expect(verify(forged) == .failure(.badSignature))
                // …and without one, HS256 is not accepted at all: never with a JWKS key.
                let jwksOnly = PlayerAuthenticator(policy: try TestKeys.policy(hs256: false))
                #expect(jwksOnly.verify(token: forged, now: now) == .failure(.unsupportedAlgorithm))
            }
        }
    }

    @Test("an alg that does not match the kid's key is refused")
    func refusesAlgorithmKeyMismatch() {
        // Signed honestly with the EC key but labelled RS256 with the EC kid, and the reverse.
        let ecAsRSA = TestKeys.token(
            header: #"{"alg":"RS256","kid":"ec-1"}"#, payload: TestKeys.claims(), signer: .es256)
        #expect(verify(ecAsRSA) == .failure(.algorithmMismatch))
        let rsaAsEd = TestKeys.token(
            header: #"{"alg":"EdDSA","kid":"rsa-1"}"#, payload: TestKeys.claims(), signer: .rs256)
        #expect(verify(rsaAsEd) == .failure(.algorithmMismatch))
    }

    @Test("an unknown or missing kid is refused for public-key algorithms")
    func refusesUnknownKid() {
        #expect(verify(TestKeys.token(alg: "RS256", kid: "rsa-2")) == .failure(.unknownKey))
        #expect(verify(TestKeys.token(alg: "EdDSA", kid: nil)) == .failure(.unknownKey))
    }

    @Test("exp is required and honoured, with the leeway")
    func expiry() {
        #expect(
            verify(TestKeys.token(alg: "EdDSA", kid: "ed-1", claims: TestKeys.claims(["exp": nil])))
                == .failure(.missingExpiry))
        #expect(
            verify(TestKeys.token(alg: "EdDSA", kid: "ed-1", claims: TestKeys.claims(["exp": "\"soon\""])))
                == .failure(.missingExpiry))
        let expired = TestKeys.token(alg: "EdDSA", kid: "ed-1", claims: TestKeys.claims(["exp": String(Int(now) - 31)]))
        #expect(verify(expired) == .failure(.expired))
        let withinLeeway = TestKeys.token(
            alg: "EdDSA", kid: "ed-1", claims: TestKeys.claims(["exp": String(Int(now) - 29)]))
        #expect(verify(withinLeeway) == .success(PlayerIdentity(subject: "p-1")))
    }

    @Test("nbf and iat in the future beyond the leeway are refused")
    func notBeforeAndIssuedAt() {
        let later = String(Int(now) + 31)
        let nearly = String(Int(now) + 29)
        #expect(
            verify(TestKeys.token(alg: "ES256", kid: "ec-1", claims: TestKeys.claims(["nbf": later])))
                == .failure(.notYetValid))
        #expect(verify(TestKeys.token(alg: "ES256", kid: "ec-1", claims: TestKeys.claims(["nbf": nearly]))).isSuccess)
        #expect(
            verify(TestKeys.token(alg: "ES256", kid: "ec-1", claims: TestKeys.claims(["iat": later])))
                == .failure(.issuedInFuture))
        #expect(verify(TestKeys.token(alg: "ES256", kid: "ec-1", claims: TestKeys.claims(["iat": nearly]))).isSuccess)
        #expect(
            verify(TestKeys.token(alg: "ES256", kid: "ec-1", claims: TestKeys.claims(["nbf": "true"])))
                == .failure(.malformed))
    }

    @Test("iss must equal the issuer; aud must be or contain the audience")
    func issuerAndAudience() {
        func claims(_ changes: [String: String?]) -> String {
            TestKeys.token(alg: "HS256", kid: nil, claims: TestKeys.claims(changes))
        }
        #expect(verify(claims(["iss": "\"https://evil.example.com\""])) == .failure(.wrongIssuer))
        #expect(verify(claims(["iss": nil])) == .failure(.wrongIssuer))
        #expect(verify(claims(["aud": "\"other\""])) == .failure(.wrongAudience))
        #expect(verify(claims(["aud": nil])) == .failure(.wrongAudience))
        #expect(verify(claims(["aud": #"["other","biomebus"]"#])).isSuccess)
        #expect(verify(claims(["aud": #"["other"]"#])) == .failure(.wrongAudience))
    }

    @Test("sub is required and becomes the player")
    func subject() {
        #expect(
            verify(TestKeys.token(alg: "HS256", kid: nil, claims: TestKeys.claims(["sub": nil])))
                == .failure(.missingSubject))
        #expect(
            verify(TestKeys.token(alg: "HS256", kid: nil, claims: TestKeys.claims(["sub": "\"\""])))
                == .failure(.missingSubject))
        #expect(
            verify(TestKeys.token(alg: "HS256", kid: nil, claims: TestKeys.claims(["sub": "\"p-77\""])))
                == .success(PlayerIdentity(subject: "p-77")))
    }

    @Test("any tampering with header, payload or signature is refused")
    func tampering() {
        for (alg, kid) in [("RS256", "rsa-1"), ("ES256", "ec-1"), ("EdDSA", "ed-1"), ("HS256", nil)] {
            let token = TestKeys.token(alg: alg, kid: kid)
            let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let otherPayload = Base64URL.encode(Array(TestKeys.claims(["sub": "\"p-2\""]).utf8))
            #expect(verify([parts[0], otherPayload, parts[2]].joined(separator: ".")) == .failure(.badSignature))
            var signature = Base64URL.decode(parts[2])!
            signature[signature.count / 2] ^= 0x01
            #expect(
                verify([parts[0], parts[1], Base64URL.encode(signature)].joined(separator: "."))
                    == .failure(.badSignature), "\(alg)")
            let otherHeader = Base64URL.encode(
                Array((kid.map { #"{"alg":"\#(alg)","kid":"\#($0)"}"# } ?? #"{"alg":"\#(alg)"}"#).utf8))
            #expect(verify([otherHeader, parts[1], parts[2]].joined(separator: ".")) == .failure(.badSignature))
            #expect(verify(parts[0] + "." + parts[1] + ".") == .failure(.badSignature))
        }
    }

    @Test("malformed tokens are refused before any key is tried")
    func malformed() {
        for token in ["", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.", "W10.e30.", String(repeating: "a", count: 9000)] {
            #expect(verify(token) == .failure(.malformed), "\(token.prefix(20))")
        }
        let critical = TestKeys.token(
            header: #"{"alg":"EdDSA","kid":"ed-1","crit":["exp"]}"#, payload: TestKeys.claims(), signer: .edDSA)
        #expect(verify(critical) == .failure(.malformed))
    }

    @Test("the Authorization header: none is a bare challenge, anything else invalid_token")
    func headerMapping() {
        let token = TestKeys.token(alg: "EdDSA", kid: "ed-1")
        let absent = authenticator.verify(authorization: nil, now: now)
        #expect(absent == .failure(.unauthorized(.noCredentials)))
        #expect(absent.refusal?.headers.first?.value == #"Bearer realm="biomebus""#)
        #expect(
            authenticator.verify(authorization: "Basic dXNlcjpwYXNz", now: now)
                == .failure(.unauthorized(.noCredentials)))
        let bad = authenticator.verify(authorization: "Bearer " + token + "x", now: now)
        #expect(bad == .failure(.unauthorized(.invalidToken(.malformed))), "a non-canonical signature part")
        #expect(bad.refusal?.headers.first?.value == #"Bearer realm="biomebus", error="invalid_token""#)
        #expect(bad.refusal?.status == 401 && bad.refusal?.code == "unauthorized")
        #expect(authenticator.verify(authorization: "bearer  " + token, now: now).isSuccess)
    }

    @Test("a body player_id must equal sub")
    func bodyPlayer() {
        let identity = PlayerIdentity(subject: "p-1")
        #expect(PlayerAuthenticator.checkBody(playerID: nil, against: identity).isSuccess)
        #expect(PlayerAuthenticator.checkBody(playerID: "p-1", against: identity).isSuccess)
        let refusal = PlayerAuthenticator.checkBody(playerID: "p-2", against: identity).refusal
        #expect(refusal == .playerMismatch && refusal?.status == 403 && refusal?.code == "player_mismatch")
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }

    var refusal: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
