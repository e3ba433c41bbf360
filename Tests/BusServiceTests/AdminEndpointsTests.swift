import BusHTTP
import Testing

@testable import BusService

@Suite("AdminEndpoints")
struct AdminEndpointsTests {
    private func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test("/healthz is 200 ok; /readyz renders the report the service gives, asked per request")
    func healthAndReadiness() {
        var ready = true
        let admin = AdminEndpoints(metrics: ServiceMetrics()) {
            var report = ReadinessReport()
            if !ready { report.add(.postgres, [.init(name: "db", address: "postgresql://h/db", error: "down")]) }
            return report
        }
        #expect(text(admin.response(for: .health)) == #"{"status":"ok"}"#)
        #expect(admin.response(for: .ready).status == 200)
        ready = false
        #expect(admin.response(for: .ready).status == 503)
        #expect(text(admin.response(for: .ready)).contains(#""postgres":[{"name":"db""#))
    }

    @Test("/metrics runs the scrape hook first and answers Prometheus text")
    func metrics() {
        let metrics = ServiceMetrics()
        var scrapes = 0
        let admin = AdminEndpoints(
            metrics: metrics,
            beforeScrape: {
                scrapes += 1
                metrics.gauge("test_scrapes", help: "Scrapes seen.").record(scrapes)
            },
            readiness: { .ready })
        let response = admin.response(for: .metrics)
        #expect(scrapes == 1)
        #expect(response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(text(response).contains("test_scrapes 1"))
    }

    @Test("/openapi.json is a route only when the service has a document")
    func openAPI() {
        let without = AdminEndpoints(metrics: ServiceMetrics()) { .ready }
        #expect(without.routes == [.health, .ready, .metrics])
        let document = Array(#"{"openapi":"3.1.0"}"#.utf8)
        let with = AdminEndpoints(metrics: ServiceMetrics(), openAPIDocument: document) { .ready }
        #expect(with.routes == [.health, .ready, .metrics, .openAPI])
        #expect(with.response(for: .openAPI).body == document)
        #expect(with.response(for: .openAPI).headers["Content-Type"] == "application/json")
    }

    @Test("through the router: GET and HEAD reach them, POST /healthz is 405 with Allow: GET")
    func routing() {
        let admin = AdminEndpoints(metrics: ServiceMetrics()) { .ready }
        let router = ServiceRouter<AuthHookTests.Route, Void>(admin: admin)
        guard case .admin(.health) = router.route(HTTPRequest(method: .get, path: "/healthz")),
            case .admin(.ready) = router.route(HTTPRequest(method: .head, path: "/readyz")),
            case .unmatched(let refused) = router.route(HTTPRequest(method: .post, path: "/healthz")),
            case .unmatched(let missing) = router.route(HTTPRequest(method: .get, path: "/openapi.json"))
        else {
            Issue.record("admin routes misrouted")
            return
        }
        #expect(refused.status == 405 && refused.headers["Allow"] == "GET")
        #expect(missing.status == 404)
    }
}
