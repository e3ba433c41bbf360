import Crypto
import CryptoExtras

/// One key that can check a JWS signature, bound to the one algorithm it is for. A key never
/// verifies under another algorithm: that binding is what defeats algorithm confusion (an
/// HS256 token whose "secret" is an RSA public key finds no HMAC key here).
public enum VerificationKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)
    case hmac(SymmetricKey)

    /// The only algorithm this key verifies.
    public var algorithm: JWSAlgorithm {
        switch self {
        case .rsa: .rs256
        case .p256: .es256
        case .ed25519: .edDSA
        case .hmac: .hs256
        }
    }

    /// True when `signature` over `signingInput` is valid under this key and `algorithm` is
    /// the key's own; false for any other algorithm, whatever the bytes.
    public func verifies(_ signature: [UInt8], over signingInput: ArraySlice<UInt8>, algorithm: JWSAlgorithm)
        -> Bool
    {
        guard algorithm == self.algorithm else { return false }
        switch self {
        case .rsa(let key):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signingInput),
                padding: .insecurePKCS1v1_5)
        case .p256(let key):
            // JWS ES256 signatures are R || S, 32 bytes each (RFC 7518 §3.4), not DER.
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: SHA256.hash(data: signingInput))
        case .ed25519(let key):
            return key.isValidSignature(signature, for: signingInput)
        case .hmac(let key):
            // Constant-time comparison of the MAC (swift-crypto's own check).
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
        }
    }
}
