import BusHTTP
import Testing

@testable import BusService

@Suite("APIError rendering")
struct APIErrorRenderingTests {
    @Test("status, the error body, Retry-After and extra headers, in one response")
    func rendering() {
        let error = APIError(
            status: 401, code: "unauthorized", message: "no \"token\"", retryAfter: 3,
            headers: [.init(name: "WWW-Authenticate", value: #"Bearer realm="biomebus""#)])
        let response = HTTPResponse(error)
        #expect(response.status == 401)
        #expect(
            String(decoding: response.body, as: UTF8.self)
                == #"{"error":{"code":"unauthorized","message":"no \"token\""}}"#)
        #expect(response.headers["Retry-After"] == "3")
        #expect(response.headers["WWW-Authenticate"] == #"Bearer realm="biomebus""#)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(HTTPResponse(.unsupportedMediaType).headers["Retry-After"] == nil)
    }

    @Test("a lookup without a route is 404, or 405 with Allow")
    func unmatched() {
        var router = Router<Int>()
        router.add(.post, "/v1/spawn", 1)
        router.add(.put, "/v1/spawn", 2)
        let notFound = router.match(.get, path: "/nope").errorResponse(method: .get, path: "/nope")
        #expect(notFound?.status == 404)
        let notFoundText = String(decoding: notFound?.body ?? [], as: UTF8.self)
        #expect(notFoundText.contains(#""code":"not_found""#))
        let wrongMethod = router.match(.get, path: "/v1/spawn").errorResponse(method: .get, path: "/v1/spawn")
        #expect(wrongMethod?.status == 405)
        #expect(wrongMethod?.headers["Allow"] == "POST, PUT")
        #expect(router.match(.post, path: "/v1/spawn").errorResponse(method: .post, path: "/v1/spawn") == nil)
    }

    @Test("the standard server answers: 413 with the limit, 500 for an unanswered request, 503 and 408")
    func standardResponses() {
        let configuration = HTTPServerConfiguration.standard
        #expect(configuration.bodyTooLargeResponse.status == 413)
        #expect(
            String(decoding: configuration.bodyTooLargeResponse.body, as: UTF8.self)
                == #"{"error":{"code":"payload_too_large","message":"request body is larger than 16384 bytes"}}"#)
        #expect(configuration.unansweredResponse.status == 500)
        #expect(String(decoding: configuration.unansweredResponse.body, as: UTF8.self).contains("internal_error"))
        #expect(configuration.connectionLimitResponse.headers["Retry-After"] == "1")
        #expect(configuration.requestTimeoutResponse.status == 408)
    }

    @Test("a JSON body must be one object")
    func jsonBody() {
        #expect((try? JSONBody.object(from: Array(#"{"a":1}"#.utf8)).get()) != nil)
        guard case .failure(let notJSON) = JSONBody.object(from: Array("{".utf8)),
            case .failure(let notObject) = JSONBody.object(from: Array("[1]".utf8))
        else {
            Issue.record("accepted a bad body")
            return
        }
        #expect(notJSON.code == "malformed_json" && notJSON.status == 400)
        #expect(notObject.message == "body must be a JSON object, not an array")
    }
}
