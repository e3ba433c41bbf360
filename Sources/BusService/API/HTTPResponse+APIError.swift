import BusHTTP

extension HTTPResponse {
    /// The one place an `APIError` becomes a response: status, JSON body, `Retry-After` and any
    /// extra headers it carries.
    package init(_ error: APIError) {
        var headers = HTTPHeaders()
        if let retryAfter = error.retryAfter { headers.add("Retry-After", String(retryAfter)) }
        for field in error.headers { headers.add(field.name, field.value) }
        self = .json(error.status, error.body, headers: headers)
    }
}

extension HTTPServerConfiguration {
    /// The server limits every BiomeBus service uses, with contract-shaped error bodies.
    package static var standard: HTTPServerConfiguration {
        HTTPServerConfiguration().withStandardResponses()
    }

    /// `standard` with the limits operators may set through the environment:
    /// `BIOMEBUS_MAX_CONNECTIONS` (connections per service, at least 1) and
    /// `BIOMEBUS_REQUEST_TIMEOUT_MS` (1 … 600000). Throws a one-line message naming the variable.
    package static func standard(environment: [String: String]) throws(HTTPLimitError) -> HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration()
        if let text = environment["BIOMEBUS_MAX_CONNECTIONS"] {
            guard let value = Int(text), value >= 1 else {
                throw HTTPLimitError("BIOMEBUS_MAX_CONNECTIONS: expected an integer of at least 1, got \"\(text)\"")
            }
            configuration.maxConnections = value
        }
        if let text = environment["BIOMEBUS_REQUEST_TIMEOUT_MS"] {
            guard let value = Int(text), (1...600_000).contains(value) else {
                throw HTTPLimitError("BIOMEBUS_REQUEST_TIMEOUT_MS: expected an integer 1 … 600000, got \"\(text)\"")
            }
            configuration.requestTimeout = .milliseconds(value)
        }
        return configuration.withStandardResponses()
    }

    /// The 413, 500, 503 (connection cap) and 408 (request timeout) bodies of the contract.
    private func withStandardResponses() -> HTTPServerConfiguration {
        var configuration = self
        configuration.bodyTooLargeResponse = HTTPResponse(.payloadTooLarge(limit: maxBodySize))
        configuration.unansweredResponse = HTTPResponse(.internalError("the request was not answered"))
        configuration.connectionLimitResponse = HTTPResponse(
            APIError(
                status: 503, code: "too_many_connections",
                message: "the server has \(maxConnections) connections open; retry later", retryAfter: 1))
        configuration.requestTimeoutResponse = HTTPResponse(
            APIError(
                status: 408, code: "request_timeout",
                message: "the request did not arrive complete within \(requestTimeout)"))
        return configuration
    }
}

/// A bad HTTP limit in the environment.
package struct HTTPLimitError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension RouteTable.Match {
    /// The response for a lookup that found no route: 404, or 405 with `Allow`.
    package func errorResponse(method: HTTPMethod, path: String) -> HTTPResponse? {
        switch self {
        case .found: nil
        case .notFound: HTTPResponse(.notFound(path: path))
        case .methodNotAllowed(let allow):
            HTTPResponse(.methodNotAllowed(method.rawValue, allow: allow.map(\.rawValue)))
        }
    }
}

extension Router.Match {
    /// The response for a lookup that found no route: 404, or 405 with `Allow`.
    package func errorResponse(method: HTTPMethod, path: String) -> HTTPResponse? {
        switch self {
        case .found: nil
        case .notFound: RouteTable.Match.notFound.errorResponse(method: method, path: path)
        case .methodNotAllowed(let allow):
            RouteTable.Match.methodNotAllowed(allow: allow).errorResponse(method: method, path: path)
        }
    }
}
