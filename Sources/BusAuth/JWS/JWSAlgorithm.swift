/// The JWS algorithms BiomeBus accepts (RFC 7518 names). `none` and every other name is
/// refused, so a header can never choose an algorithm the key was not made for.
package enum JWSAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// RSASSA-PKCS1-v1_5 with SHA-256, keys of at least 2048 bits.
    case rs256 = "RS256"
    /// ECDSA on P-256 with SHA-256.
    case es256 = "ES256"
    /// Ed25519 (RFC 8037).
    case edDSA = "EdDSA"
    /// HMAC-SHA-256 with the configured shared secret only, never with a public key.
    case hs256 = "HS256"
}
