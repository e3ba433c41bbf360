import BusHTTP

/// A service's own route (the admin endpoints are the chassis').
package protocol ServiceRoute: Sendable {
    /// Open routes skip admission: documents and views operators and clients may read without
    /// credentials (`/v1/regions`, a JWKS). The admin endpoints are always open.
    var isOpen: Bool { get }
}

/// Routes a request to an admin endpoint or to one of the service's routes, and passes every
/// service route that is not open through **one** admission hook, before its handler runs.
///
/// The hook is the seam for authentication (issue #11): it sees the request and the route,
/// and either admits it, yielding who the caller is (`Identity`, e.g. a spawn client or a
/// player; a service without auth uses `Void`), or refuses it with an `APIError`, whose
/// status, body and extra headers (`WWW-Authenticate`, `Retry-After`) become the answer as for
/// any other error. It runs on the request's loop for every request of a closed route, so it
/// must not block: keys and tokens are loaded before the service starts. Without a hook every
/// route is admitted with a nil identity.
package struct ServiceRouter<Route: ServiceRoute, Identity> {
    /// Admits a request of a closed route, or says why not.
    package typealias Admit = (_ request: HTTPRequest, _ route: Route) -> Result<Identity, APIError>

    /// Where a request goes.
    package enum Routing {
        /// A service route, admitted; `identity` is nil when the route is open or the service
        /// has no admission hook.
        case service(Route, parameters: RouteParameters, identity: Identity?)
        /// An admin endpoint (answer with `AdminEndpoints.response(for:)`).
        case admin(AdminRoute)
        /// A service route the hook refused: its answer.
        case refused(Route, HTTPResponse)
        /// No route: 404, or 405 with `Allow`.
        case unmatched(HTTPResponse)
    }

    /// The routes by the table's index: a service route at `index` ≥ 0 of `serviceRoutes`, an
    /// admin endpoint at `-1 - index` of `adminRoutes`. Plain arrays rather than a `Router` of a
    /// generic enum (or optionals of `Route`): this method runs unspecialized (Swift 6.3 does not
    /// specialize `package` generics across modules), and every generic type it builds per
    /// request costs a metadata lookup (~300–500 instructions each; bench/instructions).
    private var table = RouteTable()
    private var adminRoutes: [AdminRoute] = []
    private var serviceRoutes: [Route] = []
    private let admit: Admit?

    /// A router serving `admin`'s routes, with `admit` as the admission hook (nil: none).
    package init(admin: AdminEndpoints, admit: Admit? = nil) {
        self.admit = admit
        for route in admin.routes {
            table.add(.get, route.path, index: -1 - adminRoutes.count)
            adminRoutes.append(route)
        }
    }

    /// Adds a service route; `{name}` in a segment captures that segment.
    package mutating func add(_ method: HTTPMethod, _ pattern: String, _ route: Route) {
        table.add(method, pattern, index: serviceRoutes.count)
        serviceRoutes.append(route)
    }

    /// Matches the request, then (for closed service routes) asks the hook.
    package func route(_ request: HTTPRequest) -> Routing {
        let match = table.match(request.method, path: request.path)
        switch match {
        case .found(let index, let parameters):
            if index < 0 { return .admin(adminRoutes[-1 - index]) }
            let route = serviceRoutes[index]
            guard let admit, !route.isOpen else { return .service(route, parameters: parameters, identity: nil) }
            return admitted(request, route, parameters, by: admit)
        case .notFound, .methodNotAllowed:
            return .unmatched(match.errorResponse(method: request.method, path: request.path)!)
        }
    }

    /// The hook's verdict. Its own function, so that only closed routes pay for the `Result`
    /// type's metadata.
    @inline(never)
    private func admitted(_ request: HTTPRequest, _ route: Route, _ parameters: RouteParameters, by admit: Admit)
        -> Routing
    {
        switch admit(request, route) {
        case .success(let identity): .service(route, parameters: parameters, identity: identity)
        case .failure(let error): .refused(route, HTTPResponse(error))
        }
    }
}
