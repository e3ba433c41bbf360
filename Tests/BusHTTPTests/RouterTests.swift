import Testing

@testable import BusHTTP

@Suite("Router and request helpers")
struct RouterTests {
    enum Route: Sendable, Equatable { case spawn, chest, activate }

    private var router: Router<Route> {
        var router = Router<Route>()
        router.add(.post, "/v1/spawn", .spawn)
        router.add(.get, "/v1/treasure/{biome_id}/chests/{chest_id}", .chest)
        router.add(.post, "/v1/treasure/{biome_id}/chests/{chest_id}/activate", .activate)
        return router
    }

    @Test("matches literal and parameter segments, percent-decoded")
    func matches() {
        guard case .found(let route, let parameters) = router.match(.get, path: "/v1/treasure/53/chests/c%3A9") else {
            Issue.record("no match")
            return
        }
        #expect(route == .chest)
        #expect(parameters == ["biome_id": "53", "chest_id": "c:9"])
        guard case .found(.spawn, _) = router.match(.post, path: "/v1/spawn/") else {
            Issue.record("trailing slash")
            return
        }
    }

    @Test("paths split at every slash, empty segments dropped, ASCII or not")
    func segments() {
        #expect(RoutePattern.segments(of: "/v1//treasure/53/") == ["v1", "treasure", "53"])
        #expect(RoutePattern.segments(of: "v1/x") == ["v1", "x"])
        #expect(RoutePattern.segments(of: "/").isEmpty)
        #expect(RoutePattern.segments(of: "").isEmpty)
        #expect(RoutePattern.segments(of: "/a/é/b") == ["a", "é", "b"])
        for (path, normalized) in [
            ("/v1/spawn", "/v1/spawn"), ("/v1/spawn/", "/v1/spawn"), ("//v1//spawn", "/v1/spawn"), ("/", "/"),
            ("//", "/"), ("", ""), ("/é//x", "/é/x"),
        ] {
            #expect(RoutePattern.normalized(path) == normalized, "\(path)")
        }
        // A combining mark after a slash joins it into one Character, which is not a separator.
        #expect(RoutePattern.segments(of: "/a/\u{301}b") == ["a/\u{301}b"])
        guard case .found(.activate, let parameters) = router.match(.post, path: "/v1/treasure/53/chests/é-1/activate")
        else {
            Issue.record("no match for a non-ASCII chest id")
            return
        }
        #expect(parameters["chest_id"] == "é-1")
    }

    @Test("a known path with another method is 405 with the allowed methods; HEAD follows GET")
    func methods() {
        guard case .methodNotAllowed(let allow) = router.match(.get, path: "/v1/spawn") else {
            Issue.record("expected 405")
            return
        }
        #expect(allow == [.post])
        guard case .found(.chest, _) = router.match(.head, path: "/v1/treasure/1/chests/x") else {
            Issue.record("HEAD")
            return
        }
        guard case .notFound = router.match(.get, path: "/v2/spawn") else {
            Issue.record("expected 404")
            return
        }
    }

    @Test("a capture that is not valid percent-encoding matches no route, for any method")
    func badEscape() {
        guard case .notFound = router.match(.get, path: "/v1/treasure/53/chests/c%ZZ") else {
            Issue.record("expected 404 for a bad escape")
            return
        }
        guard case .notFound = router.match(.delete, path: "/v1/treasure/53/chests/c%ZZ") else {
            Issue.record("expected 404, not 405, for a bad escape with another method")
            return
        }
        guard case .methodNotAllowed(let allow) = router.match(.delete, path: "/v1/treasure/53/chests/c-1") else {
            Issue.record("expected 405")
            return
        }
        #expect(allow == [.get])
    }

    @Test("the table's shortcuts: literal paths by length (63 bytes and more share one bit), segment counts")
    func shortcuts() {
        var table = RouteTable()
        let long = "/v1/" + String(repeating: "x", count: 70)
        table.add(.get, long, index: 0)
        table.add(.get, "/v1/spawn", index: 1)
        table.add(.get, "/v1/{a}/{b}", index: 2)
        #expect(table.match(.get, path: long) == .found(0, parameters: RouteParameters()))
        #expect(table.match(.get, path: long + "/") == .found(0, parameters: RouteParameters()))
        #expect(table.match(.get, path: "/v1/" + String(repeating: "x", count: 69)) == .notFound)
        #expect(table.match(.get, path: "/v1/spawx") == .notFound)
        #expect(table.match(.get, path: "/v1/spawn") == .found(1, parameters: RouteParameters()))
        #expect(table.match(.get, path: "//v1//p/q") == .found(2, parameters: ["a": "p", "b": "q"]))
        // More segments than any pattern has: no match, with or without a trailing slash.
        #expect(table.match(.get, path: "/v1/p/q/r") == .notFound)
        #expect(table.match(.get, path: "/v1/p/q/r/") == .notFound)
        #expect(table.match(.get, path: "/v1/p") == .notFound)
    }

    @Test("route parameters: looked up by name, equal whatever their order")
    func parameters() {
        let parameters: RouteParameters = ["biome_id": "53", "chest_id": "c-1"]
        #expect(parameters["chest_id"] == "c-1")
        #expect(parameters["other"] == nil)
        #expect(parameters == ["chest_id": "c-1", "biome_id": "53"])
        #expect(parameters != ["chest_id": "c-1"])
        #expect(RouteParameters().isEmpty)
    }

    @Test("query parameters and JSON content type")
    func requestHelpers() {
        let request = HTTPRequest(
            method: .get, path: "/", query: "state=spawned&limit=10&x=a%20b&state=other",
            headers: ["content-type": "Application/JSON; charset=utf-8"])
        #expect(request.queryParameters == ["state": "spawned", "limit": "10", "x": "a b"])
        #expect(request.hasJSONContentType)
        #expect(
            !HTTPRequest(method: .get, path: "/", headers: ["Content-Type": "application/jsonx"]).hasJSONContentType)
        for type in ["application/jso", "", " ", "text/json", "application/json,x"] {
            #expect(
                !HTTPRequest(method: .get, path: "/", headers: ["Content-Type": type]).hasJSONContentType, "\(type)")
        }
        for type in ["application/json", " \tAPPLICATION/json \t", "application/json;charset=utf-8"] {
            #expect(HTTPRequest(method: .get, path: "/", headers: ["Content-Type": type]).hasJSONContentType, "\(type)")
        }
        #expect(HTTPHeaders(["A": "1", "a": "2"].map { ($0.key, $0.value) }).values("a").count == 2)
    }
}
