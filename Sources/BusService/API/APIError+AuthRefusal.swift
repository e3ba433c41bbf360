import BusAuth

extension APIError {
    /// The answer to an auth refusal: its status, code, message (never a token) and headers
    /// (`WWW-Authenticate`, `Retry-After`), the same for every service and route.
    package init(_ refusal: AuthRefusal) {
        self.init(
            status: refusal.status, code: refusal.code, message: refusal.message,
            headers: refusal.headers.map { HeaderField(name: $0.name, value: $0.value) })
    }
}
