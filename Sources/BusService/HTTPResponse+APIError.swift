import BusDomain
import BusHTTP

extension HTTPResponse {
    /// The one place an `APIError` becomes a response: status, JSON body, `Retry-After` and any
    /// extra headers it carries.
    public init(_ error: APIError) {
        var headers = HTTPHeaders()
        if let retryAfter = error.retryAfter { headers.add("Retry-After", String(retryAfter)) }
        for field in error.headers { headers.add(field.name, field.value) }
        self = .json(error.status, error.body, headers: headers)
    }
}

extension HTTPServerConfiguration {
    /// The server limits every BiomeBus service uses, with contract-shaped 413 and 500 bodies.
    public static var standard: HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration()
        configuration.bodyTooLargeResponse = HTTPResponse(.payloadTooLarge(limit: configuration.maxBodySize))
        configuration.unansweredResponse = HTTPResponse(.internalError("the request was not answered"))
        return configuration
    }
}

extension Router.Match {
    /// The response for a lookup that found no route: 404, or 405 with `Allow`.
    public func errorResponse(method: HTTPMethod, path: String) -> HTTPResponse? {
        switch self {
        case .found: nil
        case .notFound: HTTPResponse(.notFound(path: path))
        case .methodNotAllowed(let allow):
            HTTPResponse(.methodNotAllowed(method.rawValue, allow: allow.map(\.rawValue)))
        }
    }
}
