/// The request methods the server distinguishes; `rawValue` is the method's token (a
/// description for `unrecognized`).
package enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
    case options = "OPTIONS"
    case trace = "TRACE"
    case connect = "CONNECT"
    case patch = "PATCH"
    /// Any other method token (`QUERY`, `PROPFIND`, …). No route takes it, so the router
    /// answers it like any other wrong method: 405 with `Allow`, as the contract asks.
    case unrecognized = "an unrecognized method"
}
