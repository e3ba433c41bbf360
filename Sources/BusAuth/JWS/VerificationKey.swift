import Crypto
import CryptoExtras

/// One key that can check a JWS signature, bound to the one algorithm it is for. A key never
/// verifies under another algorithm: that binding is what defeats algorithm confusion (an
/// HS256 token whose "secret" is an RSA public key finds no HMAC key here).
///
/// A struct holding the check as a closure rather than an enum with one case per key type:
/// a multi-payload enum keeps its case in the spare bits of the key's pointer, which hides the
/// key from LeakSanitizer and made every long-lived key set look leaked.
package struct VerificationKey: Sendable {
    /// The only algorithm this key verifies.
    package let algorithm: JWSAlgorithm
    private let check: @Sendable (_ signature: [UInt8], _ signingInput: ArraySlice<UInt8>) -> Bool

    private init(
        _ algorithm: JWSAlgorithm, check: @escaping @Sendable ([UInt8], ArraySlice<UInt8>) -> Bool
    ) {
        self.algorithm = algorithm
        self.check = check
    }

    /// RS256: RSASSA-PKCS1-v1_5 with SHA-256.
    package static func rsa(_ key: _RSA.Signing.PublicKey) -> VerificationKey {
        VerificationKey(.rs256) { signature, input in
            key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: input),
                padding: .insecurePKCS1v1_5)
        }
    }

    /// ES256: ECDSA on P-256 with SHA-256.
    package static func p256(_ key: P256.Signing.PublicKey) -> VerificationKey {
        VerificationKey(.es256) { signature, input in
            // JWS ES256 signatures are R || S, 32 bytes each (RFC 7518 §3.4), not DER.
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: SHA256.hash(data: input))
        }
    }

    /// EdDSA with Ed25519.
    package static func ed25519(_ key: Curve25519.Signing.PublicKey) -> VerificationKey {
        VerificationKey(.edDSA) { signature, input in key.isValidSignature(signature, for: input) }
    }

    /// HS256 with the configured shared secret.
    package static func hmac(_ key: SymmetricKey) -> VerificationKey {
        VerificationKey(.hs256) { signature, input in
            // Constant-time comparison of the MAC (swift-crypto's own check).
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        }
    }

    /// True when `signature` over `signingInput` is valid under this key and `algorithm` is
    /// the key's own; false for any other algorithm, whatever the bytes.
    package func verifies(_ signature: [UInt8], over signingInput: ArraySlice<UInt8>, algorithm: JWSAlgorithm)
        -> Bool
    {
        algorithm == self.algorithm && check(signature, signingInput)
    }
}
