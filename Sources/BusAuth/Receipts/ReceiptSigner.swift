import BusDomain
import BusJSON
import Crypto

/// Signs receipts: the proof of a won activation that a game server verifies offline before
/// awarding loot. A compact JWS, header `{"alg":"EdDSA","kid":…}`, claims `iss` ("biomebus"),
/// `sub` (the player), `biome_id`, `chest_id`, `version` (the new one) and `iat`.
package struct ReceiptSigner: Sendable {
    /// The receipts' `iss`.
    package static let issuer = "biomebus"

    private let privateKey: Curve25519.Signing.PrivateKey
    /// The `kid` of the header and of the published JWK.
    package let keyID: String
    /// The encoded header part: the same for every receipt, so built once.
    private let encodedHeader: String

    package init(privateKey: Curve25519.Signing.PrivateKey, keyID: String) {
        self.privateKey = privateKey
        self.keyID = keyID
        var header = JSONWriter()
        header.beginObject()
        header.field("alg", "EdDSA")
        header.field("kid", keyID)
        header.endObject()
        self.encodedHeader = Base64URL.encode(header.bytes)
    }

    /// The receipt for `player` winning `chestID` in `biomeID` at `version`, issued at Unix
    /// second `issuedAt`. Signing with Ed25519 takes tens of microseconds and no I/O.
    package func sign(player: String, biomeID: Int64, chestID: String, version: Int64, issuedAt: Int64) -> String {
        var claims = JSONWriter()
        claims.beginObject()
        claims.field("iss", Self.issuer)
        claims.field("sub", player)
        claims.field("biome_id", biomeID)
        claims.field("chest_id", chestID)
        claims.field("version", version)
        claims.field("iat", issuedAt)
        claims.endObject()
        let signingInput = encodedHeader + "." + Base64URL.encode(claims.bytes)
        // Signing cannot fail for a valid private key; a failure here is a broken library.
        guard let signature = try? privateKey.signature(for: Array(signingInput.utf8)) else {
            preconditionFailure("Ed25519 signing failed")
        }
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// `GET /v1/receipts/jwks.json`: the public key as a JWKS (`kty` OKP, `crv` Ed25519, `kid`).
    package var jwksDocument: [UInt8] {
        var document = JSONWriter()
        document.beginObject()
        document.key("keys")
        document.beginArray()
        document.beginObject()
        document.field("kty", "OKP")
        document.field("crv", "Ed25519")
        document.field("x", Base64URL.encode(privateKey.publicKey.rawRepresentation))
        document.field("kid", keyID)
        document.field("alg", "EdDSA")
        document.field("use", "sig")
        document.endObject()
        document.endArray()
        document.endObject()
        return document.bytes
    }
}
