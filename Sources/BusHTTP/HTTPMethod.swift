/// The request methods the server distinguishes.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, CONNECT, PATCH
}
