import Crypto

/// A game-server client the gateway let in.
package struct ClientIdentity: Sendable, Equatable {
    /// Its name: the `source` field of every entry it appends, a log and metric label.
    package let name: String
    /// The regions it may spawn into.
    package let regions: RegionGrant

    package init(name: String, regions: RegionGrant) {
        self.name = name
        self.regions = regions
    }

    /// `.success` when this client may spawn into `region`, else `403 region_forbidden`
    /// (in a batch: per event).
    package func authorize(region: String) -> Result<Void, AuthRefusal> {
        regions.allows(region) ? .success(()) : .failure(.regionForbidden(client: name, region: region))
    }
}

/// Admits game servers by bearer token: the token's SHA-256 is compared, in constant time,
/// with every configured hash. Tokens themselves are never stored, logged or compared.
package struct SpawnAuthenticator: Sendable {
    private let clients: [SpawnClient]

    package init(policy: SpawnPolicy) { self.clients = policy.clients }

    /// Checks the request's `Authorization` header value (nil: absent). Every refusal is
    /// `401 unauthorized` with `WWW-Authenticate: Bearer realm="biomebus"`.
    package func admit(authorization: String?) -> Result<ClientIdentity, AuthRefusal> {
        switch BearerCredentials(authorization: authorization) {
        case .absent: return .failure(.unauthorized(.noCredentials))
        case .malformed: return .failure(.unauthorized(.unknownClient))
        case .token(let token):
            guard let client = client(for: token) else { return .failure(.unauthorized(.unknownClient)) }
            return .success(ClientIdentity(name: client.name, regions: client.regions))
        }
    }

    /// The client whose hash matches `token`. Every hash is compared (no early exit), each
    /// with swift-crypto's constant-time digest equality, so timing tells nothing about how
    /// close a guess came nor which entry matched.
    func client(for token: String) -> SpawnClient? {
        let digest = SHA256.hash(data: Array(token.utf8))
        var match: SpawnClient?
        for client in clients {
            for hash in client.tokenHashes where digest == hash {
                match = client
            }
        }
        return match
    }
}
