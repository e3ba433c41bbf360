import BusHTTP

/// The operator endpoints of a service.
package enum AdminRoute: String, Sendable, CaseIterable {
    /// `GET /healthz`: 200 while the process runs.
    case health
    /// `GET /readyz`: the service's `ReadinessReport`.
    case ready
    /// `GET /metrics`: the Prometheus text exposition.
    case metrics
    /// `GET /openapi.json`: the service's OpenAPI document, when it has one.
    case openAPI = "openapi"

    /// The route's path.
    package var path: String {
        switch self {
        case .health: "/healthz"
        case .ready: "/readyz"
        case .metrics: "/metrics"
        case .openAPI: "/openapi.json"
        }
    }
}

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.json`, answered the same way by every
/// service. One value per loop: `readiness` and `beforeScrape` run on the loop that serves the
/// request, so they may read that loop's state.
package struct AdminEndpoints {
    private let metrics: ServiceMetrics
    private let openAPIDocument: [UInt8]?
    private let beforeScrape: (() -> Void)?
    private let readiness: () -> ReadinessReport

    /// `openAPIDocument` nil: no `/openapi.json` route. `beforeScrape` runs before each
    /// `/metrics` render (to publish figures only readable on the loop).
    package init(
        metrics: ServiceMetrics, openAPIDocument: [UInt8]? = nil, beforeScrape: (() -> Void)? = nil,
        readiness: @escaping () -> ReadinessReport
    ) {
        self.metrics = metrics
        self.openAPIDocument = openAPIDocument
        self.beforeScrape = beforeScrape
        self.readiness = readiness
    }

    /// The routes served (all `GET`; `HEAD` follows through the router).
    package var routes: [AdminRoute] {
        AdminRoute.allCases.filter { $0 != .openAPI || openAPIDocument != nil }
    }

    /// The answer of `route`.
    package func response(for route: AdminRoute) -> HTTPResponse {
        switch route {
        case .health:
            return .json(200, #"{"status":"ok"}"#)
        case .ready:
            return readiness().response
        case .metrics:
            beforeScrape?()
            return .prometheus(metrics.render())
        case .openAPI:
            guard let openAPIDocument else { return HTTPResponse(.notFound(path: route.path)) }
            return .json(200, bytes: openAPIDocument)
        }
    }
}
