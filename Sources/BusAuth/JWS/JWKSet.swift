import BusDomain
import BusJSON
import Crypto
import CryptoExtras

/// The verification keys of a JWKS document (RFC 7517), by `kid`, parsed once at startup.
///
/// Keys for another use (`"use": "enc"`), of an unsupported type or curve, or whose `alg`
/// names an algorithm BiomeBus does not accept, are skipped (a shared JWKS may hold them);
/// a supported key that is malformed, or two keys with one `kid`, are errors.
package struct JWKSet: Sendable {
    /// Why a JWKS document was refused.
    package struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// Usable keys by `kid`.
    package let keys: [String: VerificationKey]
    /// What was skipped and why, for the startup log.
    package let skipped: [String]

    /// Parses `document`; throws when it is not a JWKS or holds no usable key.
    package init(document: [UInt8]) throws(Invalid) {
        guard let root = try? JSONParser.parse(document), case .array(let entries)? = root["keys"] else {
            throw Invalid(message: "not a JWKS document (expected an object with a \"keys\" array)")
        }
        var keys: [String: VerificationKey] = [:]
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            guard case .object = entry else { throw Invalid(message: "keys[\(index)] is not an object") }
            guard case .string(let kid)? = entry["kid"], !kid.isEmpty else {
                skipped.append("keys[\(index)]: no kid (keys are chosen by kid)")
                continue
            }
            if case .string(let use)? = entry["use"], use != "sig" {
                skipped.append("\(kid): use \(use)")
                continue
            }
            let key: VerificationKey?
            do {
                key = try Self.key(from: entry)
            } catch {
                throw Invalid(message: "key \"\(kid)\": \(error.message)")
            }
            guard let key else {
                skipped.append("\(kid): unsupported kty/crv/alg")
                continue
            }
            guard keys[kid] == nil else { throw Invalid(message: "kid \"\(kid)\" appears twice") }
            keys[kid] = key
        }
        guard !keys.isEmpty else {
            let why = skipped.isEmpty ? "" : " (skipped: \(skipped.joined(separator: "; ")))"
            throw Invalid(message: "no usable signing key (RS256, ES256 or EdDSA with a kid)\(why)")
        }
        self.keys = keys
        self.skipped = skipped
    }

    /// The key described by one JWK, nil when it is of a kind BiomeBus does not use.
    private static func key(from jwk: JSONValue) throws(Invalid) -> VerificationKey? {
        let declared: JWSAlgorithm?
        switch jwk["alg"] {
        case nil: declared = nil
        case .string(let name)?:
            guard let algorithm = JWSAlgorithm(rawValue: name), algorithm != .hs256 else { return nil }
            declared = algorithm
        default: throw Invalid(message: "alg is not a string")
        }
        let key: VerificationKey
        switch jwk["kty"] {
        case .string("RSA")?:
            let modulus = try member("n", of: jwk)
            let exponent = try member("e", of: jwk)
            do {
                key = .rsa(try _RSA.Signing.PublicKey(n: modulus, e: exponent))
            } catch {
                throw Invalid(message: "not a usable RSA public key (at least 2048 bits): \(error)")
            }
        case .string("EC")?:
            guard case .string("P-256")? = jwk["crv"] else { return nil }
            let x = try member("x", of: jwk)
            let y = try member("y", of: jwk)
            guard x.count == 32, y.count == 32 else { throw Invalid(message: "P-256 x and y must be 32 bytes") }
            do {
                key = .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
            } catch {
                throw Invalid(message: "not a point on P-256")
            }
        case .string("OKP")?:
            guard case .string("Ed25519")? = jwk["crv"] else { return nil }
            let x = try member("x", of: jwk)
            do {
                key = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: x))
            } catch {
                throw Invalid(message: "Ed25519 x must be 32 bytes")
            }
        case .string?:
            return nil
        default:
            throw Invalid(message: "kty is missing or not a string")
        }
        if let declared, declared != key.algorithm {
            throw Invalid(message: "alg \(declared.rawValue) does not fit the key type (\(key.algorithm.rawValue))")
        }
        return key
    }

    private static func member(_ name: String, of jwk: JSONValue) throws(Invalid) -> [UInt8] {
        guard case .string(let text)? = jwk[name], let bytes = Base64URL.decode(text), !bytes.isEmpty else {
            throw Invalid(message: "\(name) is missing or not base64url")
        }
        return bytes
    }
}
