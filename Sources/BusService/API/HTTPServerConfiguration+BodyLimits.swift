import BusHTTP

extension HTTPServerConfiguration {
    /// This configuration with `path` allowed bodies up to `limit` bytes (with the contract's
    /// 413 naming that limit), every other path keeping `maxBodySize`. The 413 is sent from the
    /// request's head, before the body is read (BusHTTP's core never buffers an excess).
    package func allowingBodies(upTo limit: Int, on path: String) -> HTTPServerConfiguration {
        var configuration = self
        configuration.pathBodyLimits[path] = PathBodyLimit(
            maxBodySize: limit, tooLargeResponse: HTTPResponse(.payloadTooLarge(limit: limit)))
        return configuration
    }
}
