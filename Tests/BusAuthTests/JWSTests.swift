import BusAuth
import Testing

@Suite("JWS parts and base64url")
struct JWSTests {
    @Test("base64url round-trips and refuses padding, other alphabets and non-canonical text")
    func base64URL() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("AA==") == nil)
        #expect(Base64URL.decode("A+/A") == nil)
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AB") == nil, "AB has non-zero trailing bits: AA is the canonical spelling")
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("A A") == nil)
    }

    @Test("a compact JWS is taken apart: alg, kid, payload, signing input")
    func parts() throws {
        let token = TestKeys.token(alg: "EdDSA", kid: "ed-1")
        let jws = try CompactJWS(token)
        #expect(jws.algorithm == .edDSA && jws.keyID == "ed-1")
        #expect(jws.payload["sub"] == .string("p-1"))
        #expect(
            String(decoding: jws.signingInput, as: UTF8.self)
                == token.split(separator: ".").prefix(2).joined(separator: "."))
        #expect(jws.signature.count == 64)
    }

    @Test("unsupported algorithms, a non-string kid and non-object parts are refused")
    func refusals() {
        func header(_ text: String) -> String { TestKeys.token(header: text, payload: "{}", signer: .none) }
        #expect(throws: CompactJWS.Malformed.unsupportedAlgorithm("HS512")) {
            try CompactJWS(header(#"{"alg":"HS512"}"#))
        }
        #expect(throws: CompactJWS.Malformed.unsupportedAlgorithm("none")) {
            try CompactJWS(header(#"{"alg":"none"}"#))
        }
        #expect(throws: CompactJWS.Malformed.missingAlgorithm) { try CompactJWS(header(#"{"kid":"x"}"#)) }
        #expect(throws: CompactJWS.Malformed.badKeyID) { try CompactJWS(header(#"{"alg":"EdDSA","kid":7}"#)) }
        #expect(throws: CompactJWS.Malformed.headerNotJSONObject) { try CompactJWS(header(#"["alg"]"#)) }
        #expect(throws: CompactJWS.Malformed.payloadNotJSONObject) {
            try CompactJWS(TestKeys.token(header: #"{"alg":"EdDSA"}"#, payload: "42", signer: .none))
        }
        #expect(throws: CompactJWS.Malformed.tooLong) {
            try CompactJWS(String(repeating: "A", count: CompactJWS.maxLength + 1))
        }
    }
}
