import BusDomain
import BusJSON

/// A compact JWS (RFC 7515 §7.1) taken apart but not yet trusted: its header, its payload
/// bytes, the signing input and the signature. Nothing here says the signature is good.
package struct CompactJWS: Sendable {
    /// Tokens longer than this are refused before any decoding: a player JWT is a few hundred
    /// bytes, and an attacker's megabyte must not cost more than a length check.
    package static let maxLength = 8192

    /// Why a token could not be taken apart.
    package enum Malformed: Error, Sendable, Equatable {
        case tooLong
        case notThreeParts
        case badBase64(part: String)
        case headerNotJSONObject
        case unsupportedAlgorithm(String)
        case missingAlgorithm
        case badKeyID
        case criticalExtensions
        case payloadNotJSONObject
    }

    /// The header's `alg`, one of the accepted algorithms.
    package let algorithm: JWSAlgorithm
    /// The header's `kid`, when present.
    package let keyID: String?
    /// The decoded payload (for a JWT: the claims object).
    package let payload: JSONValue
    /// `BASE64URL(header) "." BASE64URL(payload)`, the bytes the signature covers.
    package let signingInput: ArraySlice<UInt8>
    /// The decoded signature.
    package let signature: [UInt8]

    /// Splits and decodes `token`; refuses anything but three canonical base64url parts whose
    /// header is a JSON object with an accepted `alg`, no `crit`, and whose payload is an object.
    package init(_ token: String) throws(Malformed) {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maxLength else { throw .tooLong }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw .notThreeParts }
        let headerText = bytes[..<dots[0]]
        let payloadText = bytes[(dots[0] + 1)..<dots[1]]
        let signatureText = bytes[(dots[1] + 1)...]

        guard let headerBytes = Base64URL.decode(headerText) else { throw .badBase64(part: "header") }
        guard let payloadBytes = Base64URL.decode(payloadText) else { throw .badBase64(part: "payload") }
        guard let signature = Base64URL.decode(signatureText) else { throw .badBase64(part: "signature") }

        guard let header = try? JSONParser.parse(headerBytes), case .object = header else {
            throw .headerNotJSONObject
        }
        guard case .string(let name)? = header["alg"] else { throw .missingAlgorithm }
        guard let algorithm = JWSAlgorithm(rawValue: name) else { throw .unsupportedAlgorithm(name) }
        // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand; we
        // understand none.
        guard header["crit"] == nil else { throw .criticalExtensions }
        var keyID: String?
        if let kid = header["kid"] {
            guard case .string(let value) = kid else { throw .badKeyID }
            keyID = value
        }
        guard let payload = try? JSONParser.parse(payloadBytes), case .object = payload else {
            throw .payloadNotJSONObject
        }
        self.algorithm = algorithm
        self.keyID = keyID
        self.payload = payload
        self.signingInput = bytes[..<dots[1]]
        self.signature = signature
    }
}
