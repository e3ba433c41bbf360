import BusOps

typealias TestHTTPResponse = PlainHTTPResponse

/// The tests' HTTP client: `PlainHTTPClient`, which sends exactly what it is given.
enum TestHTTPClient {
    static func request(
        port: Int, method: String, path: String, headers: [String: String] = [:], body: [UInt8]? = nil,
        timeout: Double = 10
    ) throws -> TestHTTPResponse {
        try PlainHTTPClient.request(
            port: port, method: method, path: path, headers: headers, body: body, timeout: timeout)
    }

    /// POST /v1/spawn with a JSON body.
    static func spawn(port: Int, _ json: String, contentType: String = "application/json") throws -> TestHTTPResponse {
        try request(
            port: port, method: "POST", path: "/v1/spawn", headers: ["Content-Type": contentType],
            body: Array(json.utf8))
    }
}
