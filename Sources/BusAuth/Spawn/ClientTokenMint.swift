import Crypto

/// Makes new game-server credentials for `biomebus auth new-client`: a random token and the
/// `clients:` entry that admits it. Nothing is stored; the token exists only in the output.
package enum ClientTokenMint {
    /// A fresh token: 256 bits from the system CSPRNG (BoringSSL's RAND_bytes via swift-crypto),
    /// base64url without padding (43 characters, safe in headers, URLs and YAML).
    package static func newToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Base64URL.encode($0) }
    }

    /// The lowercase hex SHA-256 of `token`, as the auth file's `token_sha256` holds it.
    package static func hash(of token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The auth file's `clients:` entry for `name` holding `token`'s hash; regions empty: all.
    package static func entry(name: String, token: String, regions: [String]) -> String {
        let list = regions.isEmpty ? #"["*"]"# : "[" + regions.joined(separator: ", ") + "]"
        return """
            - name: \(name)
              token_sha256: \(hash(of: token))
              regions: \(list)
            """
    }
}
