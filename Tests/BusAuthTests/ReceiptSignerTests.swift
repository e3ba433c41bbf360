import BusAuth
import BusDomain
import BusJSON
import Crypto
import Testing

@Suite("Receipts")
struct ReceiptSignerTests {
    let key = Curve25519.Signing.PrivateKey()

    @Test("a receipt is an EdDSA compact JWS with the contract's header and claims, verifiable with the JWKS")
    func signsAndVerifies() throws {
        let signer = ReceiptSigner(privateKey: key, keyID: "r1")
        let receipt = signer.sign(player: "p-1", biomeID: 53, chestID: "c-9", version: 2, issuedAt: 1_800_000_000)
        let jws = try CompactJWS(receipt)
        #expect(jws.algorithm == .edDSA && jws.keyID == "r1")
        let header = try JSONParser.parse(Base64URL.decode(String(receipt.split(separator: ".")[0]))!)
        #expect(header == .object([("alg", .string("EdDSA")), ("kid", .string("r1"))]))
        #expect(jws.payload["iss"] == .string("biomebus") && jws.payload["sub"] == .string("p-1"))
        #expect(jws.payload["chest_id"] == .string("c-9"))
        for (name, value) in [("biome_id", "53"), ("version", "2"), ("iat", "1800000000")] {
            guard case .number(let number)? = jws.payload[name] else {
                Issue.record("\(name) is not a number")
                continue
            }
            #expect(number.isIntegerLiteral && number.literal == value, "\(name) is a JSON integer")
        }

        let published = try JWKSet(document: signer.jwksDocument)
        let publicKey = try #require(published.keys["r1"])
        #expect(publicKey.verifies(jws.signature, over: jws.signingInput, algorithm: .edDSA))
        let jwk = try JSONParser.parse(signer.jwksDocument)
        guard case .array(let keys)? = jwk["keys"], let first = keys.first else {
            Issue.record("no keys array")
            return
        }
        #expect(first["kty"] == .string("OKP") && first["crv"] == .string("Ed25519") && first["kid"] == .string("r1"))
        #expect(first["d"] == nil, "the private key never leaves")

        // Another key's JWKS does not verify it; a changed claim does not verify.
        let other = try JWKSet(document: ReceiptSigner(privateKey: .init(), keyID: "r1").jwksDocument)
        #expect(!(other.keys["r1"]!.verifies(jws.signature, over: jws.signingInput, algorithm: .edDSA)))
        let forged = try CompactJWS(
            receipt.split(separator: ".")[0] + "."
                + Base64URL.encode(Array(#"{"iss":"biomebus","sub":"p-2"}"#.utf8)) + "."
                + receipt.split(separator: ".")[2])
        #expect(!publicKey.verifies(forged.signature, over: forged.signingInput, algorithm: .edDSA))
    }

    @Test("claims with quotes or unicode are escaped, not broken")
    func escapes() throws {
        let signer = ReceiptSigner(privateKey: key, keyID: "r\"1")
        let receipt = signer.sign(player: "p\"\\\u{1}é", biomeID: 1, chestID: "c", version: 1, issuedAt: 1)
        let jws = try CompactJWS(receipt)
        #expect(jws.payload["sub"] == .string("p\"\\\u{1}é") && jws.keyID == "r\"1")
    }
}
