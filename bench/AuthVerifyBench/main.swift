// bench/auth's timer: what verifying one player JWT costs, swift-crypto directly (BusAuth's
// PlayerAuthenticator, synchronous, on the calling thread) against vapor/jwt-kit 5 (async):
// inside one async task (its own cost), and bridged from a plain thread the way a libevent
// loop thread would have to call it (a Task per token, the answer handed back to the thread).
// Prints the median of ROUNDS rounds, in microseconds of process CPU time per token (all threads,
// so the bridge's hops count, and a machine busy with other work does not), for ES256, EdDSA,
// RS256 and HS256.
import BusAuth
import Crypto
import CryptoExtras
import Foundation
import JWTKit

#if canImport(Glibc)
    import Glibc
#endif

let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 5
let iterations = Int(ProcessInfo.processInfo.environment["ITERATIONS"] ?? "") ?? 2000

func nanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

// MARK: - Keys and tokens, made here

let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
let p256 = P256.Signing.PrivateKey()
let ed25519 = Curve25519.Signing.PrivateKey()
let secret = Array("a shared secret of at least thirty-two bytes!".utf8)
let now = Int(Date().timeIntervalSince1970)
let claims = """
    {"iss":"https://auth.example.com","aud":"biomebus","sub":"p-1","iat":\(now),"exp":\(now + 3600)}
    """
let primitives = try rsa.publicKey.getKeyPrimitives()
let point = p256.publicKey.rawRepresentation
let jwks = """
    {"keys":[
    {"kty":"RSA","kid":"rsa-1","alg":"RS256","use":"sig","n":"\(Base64URL.encode(primitives.modulus))",\
    "e":"\(Base64URL.encode(primitives.publicExponent))"},
    {"kty":"EC","kid":"ec-1","alg":"ES256","use":"sig","crv":"P-256","x":"\(Base64URL.encode(point.prefix(32)))",\
    "y":"\(Base64URL.encode(point.suffix(32)))"},
    {"kty":"OKP","kid":"ed-1","alg":"EdDSA","use":"sig","crv":"Ed25519",\
    "x":"\(Base64URL.encode(ed25519.publicKey.rawRepresentation))"}
    ]}
    """

func token(_ alg: String, kid: String?) throws -> String {
    let header = kid.map { #"{"alg":"\#(alg)","kid":"\#($0)","typ":"JWT"}"# } ?? #"{"alg":"\#(alg)","typ":"JWT"}"#
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
    let data = Array(input.utf8)
    let signature: [UInt8] =
        switch alg {
        case "RS256":
            Array(try rsa.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case "ES256": Array(try p256.signature(for: SHA256.hash(data: data)).rawRepresentation)
        case "EdDSA": Array(try ed25519.signature(for: data))
        default: Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: secret)))
        }
    return input + "." + Base64URL.encode(signature)
}

let cases = [("ES256", "ec-1"), ("EdDSA", "ed-1"), ("RS256", "rsa-1"), ("HS256", nil)]
let tokens = try cases.map { try token($0.0, kid: $0.1) }

// MARK: - swift-crypto directly (BusAuth)

let policy = PlayerPolicy(
    issuer: "https://auth.example.com", audience: "biomebus", keys: try JWKSet(document: Array(jwks.utf8)).keys,
    hs256Secret: SymmetricKey(data: secret))
let direct = PlayerAuthenticator(policy: policy)

func timeDirect(_ token: String) -> Double {
    median(
        (0..<rounds).map { _ in
            let start = nanoseconds()
            for _ in 0..<iterations {
                guard case .success = direct.verify(token: token, now: Date().timeIntervalSince1970) else {
                    fatalError("BusAuth refused a good token")
                }
            }
            return Double(nanoseconds() - start) / Double(iterations) / 1000
        })
}

// MARK: - jwt-kit 5

struct Claims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == "https://auth.example.com" else {
            throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "iss")
        }
        try aud.verifyIntendedAudience(includes: "biomebus")
    }
}

let keys = JWTKeyCollection()
try await keys.add(jwksJSON: jwks)
await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)

func timeJWTKitAsync(_ token: String) async throws -> Double {
    var values: [Double] = []
    for _ in 0..<rounds {
        let start = nanoseconds()
        for _ in 0..<iterations { _ = try await keys.verify(token, as: Claims.self) }
        values.append(Double(nanoseconds() - start) / Double(iterations) / 1000)
    }
    return median(values)
}

/// From a plain thread (as a libevent loop would): one Task per token, the result handed back
/// to the thread. The thread waits here only to time the round trip; a loop would instead
/// go on and receive the answer as a callback, paying the same two thread hops.
func timeJWTKitBridged(_ token: String) -> Double {
    let result = LockedBox()
    let thread = Thread {
        var values: [Double] = []
        for _ in 0..<rounds {
            let start = nanoseconds()
            for _ in 0..<iterations {
                let done = DispatchSemaphore(value: 0)
                Task {
                    _ = try? await keys.verify(token, as: Claims.self)
                    done.signal()
                }
                done.wait()
            }
            values.append(Double(nanoseconds() - start) / Double(iterations) / 1000)
        }
        result.set(median(values))
    }
    thread.start()
    return result.wait()
}

final class LockedBox: @unchecked Sendable {
    // @unchecked Sendable: `value` is written once before `ready` is signalled, read after.
    private var value = 0.0
    private let ready = DispatchSemaphore(value: 0)
    func set(_ value: Double) {
        self.value = value
        ready.signal()
    }
    func wait() -> Double {
        ready.wait()
        return value
    }
}

print("µs of CPU per token, median of \(rounds) rounds × \(iterations) tokens")
print("| alg | BusAuth (swift-crypto, sync) | jwt-kit 5 (inside async) | jwt-kit 5 (bridged from a thread) |")
print("|---|---|---|---|")
for (index, (alg, _)) in cases.enumerated() {
    let token = tokens[index]
    let ours = timeDirect(token)
    let kitAsync = try await timeJWTKitAsync(token)
    let kitBridged = timeJWTKitBridged(token)
    print(String(format: "| %@ | %.1f | %.1f | %.1f |", alg, ours, kitAsync, kitBridged))
}
