import BusTesting
import Foundation
import Testing

@Suite("OpenAPI: each service serves its document and has every route it declares")
struct OpenAPITests {
    /// The document as committed, `Sources/<module>/Resources/openapi.json`.
    static func committedDocument(_ module: String) throws -> Data {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try Data(contentsOf: root.appendingPathComponent("Sources/\(module)/Resources/openapi.json"))
    }

    /// Sends every operation of `document` with the examples' ids and no body: each must reach
    /// its route (no `not_found` 404, no 405), so the document names no route the service lacks.
    static func expectEveryOperationRouted(_ document: Data, port: Int) throws {
        let root = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
        let paths = try #require(root["paths"] as? [String: [String: Any]])
        #expect(!paths.isEmpty)
        for (template, item) in paths {
            let path = template.replacingOccurrences(of: "{biome_id}", with: "53")
                .replacingOccurrences(of: "{chest_id}", with: "c-9")
            for method in ["get", "post", "put", "delete", "patch"] where item[method] != nil {
                let response = try PlainHTTPClient.request(port: port, method: method.uppercased(), path: path)
                #expect(response.status != 405, "\(method) \(template)")
                #expect(response.errorCode != "not_found", "\(method) \(template)")
            }
        }
    }

    @Test("the gateway serves Resources/openapi.json byte for byte, and routes every operation in it")
    func gatewayDocument() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        let served = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/openapi.json")
        #expect(served.status == 200)
        #expect(served.headers["content-type"] == "application/json")
        let committed = try Self.committedDocument("BusGateway")
        #expect(Data(served.body) == committed)
        try Self.expectEveryOperationRouted(committed, port: harness.port)
    }

    @Test("the activation service serves Resources/openapi.json byte for byte, and routes every operation in it")
    func activationDocument() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        let harness = try ActivationHarness(postgresURL: database.url)
        let served = try harness.get("/openapi.json")
        #expect(served.status == 200)
        #expect(served.headers["content-type"] == "application/json")
        let committed = try Self.committedDocument("BusActivation")
        #expect(Data(served.body) == committed)
        try Self.expectEveryOperationRouted(committed, port: harness.port)
    }

    // Found by schemathesis (scripts/check-api): libevent answered a method it does not know
    // with its own HTML 501, not the contract's JSON 405 with Allow.
    @Test("a method libevent does not know gets the JSON 405 with Allow")
    func unrecognizedMethod() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        for method in ["QUERY", "PROPFIND"] {
            let response = try PlainHTTPClient.request(port: harness.port, method: method, path: "/v1/spawn")
            #expect(response.status == 405, "\(method)")
            #expect(response.headers["allow"] == "POST")
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.errorCode == "method_not_allowed")
        }
    }

    // Found by schemathesis: libevent read no body after HEAD, TRACE or an unknown method, and
    // parsed a body sent with one as the next request. BusHTTP's own parser frames every
    // request by its Content-Length, so the body is read and the next request is answered.
    @Test(
        "a body sent with a method that takes none is read as its body; the next request is answered",
        arguments: [
            "TRACE", "QUERY", "HEAD",
        ])
    func bodyWithoutMeaningIsRead(method: String) throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        let received = try PlainHTTPClient.exchange(
            port: harness.port,
            "\(method) /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        // The second reply follows the first one's body directly, not on a line of its own.
        let statusLines = received.components(separatedBy: "HTTP/1.1 ").dropFirst().map {
            "HTTP/1.1 " + ($0.components(separatedBy: "\r\n").first ?? "")
        }
        #expect(statusLines.count == 2, "\(received)")
        #expect(statusLines.last == "HTTP/1.1 200 OK", "\(received)")
        #expect(statusLines.first == (method == "HEAD" ? "HTTP/1.1 200 OK" : "HTTP/1.1 405 Method Not Allowed"))
    }
}
