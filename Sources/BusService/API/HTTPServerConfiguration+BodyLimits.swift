import BusHTTP

extension HTTPServerConfiguration {
    /// This configuration with `path` allowed bodies up to `limit` bytes (with the contract's
    /// 413 naming that limit), every other path keeping `maxBodySize`. The transport limit is
    /// raised to twice `limit`, so a body somewhat over it still gets the JSON 413.
    package func allowingBodies(upTo limit: Int, on path: String) -> HTTPServerConfiguration {
        var configuration = self
        configuration.pathBodyLimits[path] = PathBodyLimit(
            maxBodySize: limit, tooLargeResponse: HTTPResponse(.payloadTooLarge(limit: limit)))
        configuration.transportBodyLimit = max(configuration.transportBodyLimit, 2 * limit)
        return configuration
    }
}
