import BusHTTP
import Testing

@testable import BusService

@Suite("Admission hook: the one gate of every closed route")
struct AuthHookTests {
    enum Route: String, ServiceRoute, Equatable {
        case spawn, regions, jwks
        var isOpen: Bool { self != .spawn }
    }

    /// A hook that admits `Bearer good` as "gs-1" and refuses everything else with a challenge.
    private final class Hook {
        var calls: [Route] = []

        func admit(_ request: HTTPRequest, _ route: Route) -> Result<String, APIError> {
            calls.append(route)
            guard request.headers["Authorization"] == "Bearer good" else {
                return .failure(
                    APIError(
                        status: 401, code: "unauthorized", message: "a bearer token is required",
                        headers: [.init(name: "WWW-Authenticate", value: #"Bearer realm="biomebus""#)]))
            }
            return .success("gs-1")
        }
    }

    private func router(_ hook: Hook) -> ServiceRouter<Route, String> {
        var router = ServiceRouter<Route, String>(admin: AdminEndpoints(metrics: ServiceMetrics()) { .ready }) {
            hook.admit($0, $1)
        }
        router.add(.post, "/v1/spawn", .spawn)
        router.add(.get, "/v1/regions", .regions)
        router.add(.get, "/v1/receipts/jwks.json", .jwks)
        return router
    }

    @Test("called for closed routes only: never for admin endpoints, open routes or unmatched paths")
    func calledForClosedRoutesOnly() {
        let hook = Hook()
        let router = router(hook)
        for path in ["/healthz", "/readyz", "/metrics", "/v1/regions", "/v1/receipts/jwks.json", "/nope"] {
            _ = router.route(HTTPRequest(method: .get, path: path))
        }
        _ = router.route(HTTPRequest(method: .get, path: "/v1/spawn"))
        #expect(hook.calls.isEmpty)
        guard case .service(.regions, _, let identity) = router.route(HTTPRequest(method: .get, path: "/v1/regions"))
        else {
            Issue.record("open route not served")
            return
        }
        #expect(identity == nil)
        _ = router.route(HTTPRequest(method: .post, path: "/v1/spawn"))
        #expect(hook.calls == [.spawn])
    }

    @Test("admitted: the handler gets the identity; refused: the hook's error is the answer, headers included")
    func outcomes() {
        let hook = Hook()
        let router = router(hook)
        let good = HTTPRequest(method: .post, path: "/v1/spawn", headers: ["Authorization": "Bearer good"])
        guard case .service(.spawn, _, let identity) = router.route(good) else {
            Issue.record("admitted request not routed")
            return
        }
        #expect(identity == "gs-1")
        guard case .refused(.spawn, let response) = router.route(HTTPRequest(method: .post, path: "/v1/spawn")) else {
            Issue.record("refused request routed")
            return
        }
        #expect(response.status == 401)
        #expect(response.headers.values("WWW-Authenticate") == [#"Bearer realm="biomebus""#])
        #expect(
            String(decoding: response.body, as: UTF8.self)
                == #"{"error":{"code":"unauthorized","message":"a bearer token is required"}}"#)
        #expect(hook.calls == [.spawn, .spawn])
    }

    @Test("without a hook every route is admitted with no identity")
    func noHook() {
        var router = ServiceRouter<Route, String>(admin: AdminEndpoints(metrics: ServiceMetrics()) { .ready })
        router.add(.post, "/v1/spawn", .spawn)
        guard case .service(.spawn, _, nil) = router.route(HTTPRequest(method: .post, path: "/v1/spawn")) else {
            Issue.record("not admitted")
            return
        }
    }
}
