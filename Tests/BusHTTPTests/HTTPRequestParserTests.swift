import Testing

@testable import BusHTTP

@Suite("HTTP request parser")
struct HTTPRequestParserTests {
    private func parse(_ text: String, maxSize: Int = 8192, maxFields: Int = 100) -> HTTPHeadParse {
        Array(text.utf8).withUnsafeBytes { HTTPRequestParser.parseHead($0, maxSize: maxSize, maxFields: maxFields) }
    }

    private func head(_ text: String) throws -> HTTPRequestHead {
        guard case .complete(let head) = parse(text) else { throw ParseFailure(text: text) }
        return head
    }

    private struct ParseFailure: Error { let text: String }

    private func error(_ text: String, maxSize: Int = 8192, maxFields: Int = 100) -> HTTPParseError? {
        guard case .failed(let error) = parse(text, maxSize: maxSize, maxFields: maxFields) else { return nil }
        return error
    }

    @Test("parsed fields: read in place, names in any case, repeats in order, added fields after them")
    func parsedFields() throws {
        var headers = try head(
            "GET / HTTP/1.1\r\nHost: a\r\nIf-Match: \"1\"\r\nX-Empty:\r\nif-match:  \"2\" \t\r\nContent-Type: application/JSON\n\r\n"
        ).headers
        #expect(headers["IF-MATCH"] == "\"1\"")
        #expect(headers.values("If-Match") == ["\"1\"", "\"2\""])
        #expect(headers["x-empty"] == "")
        #expect(headers["If-Matc"] == nil)
        #expect(headers.values("Nope").isEmpty)
        #expect(HTTPRequest(method: .get, path: "/", headers: headers).hasJSONContentType)
        headers.add("If-Match", "\"3\"")
        #expect(headers.values("if-match") == ["\"1\"", "\"2\"", "\"3\""])
        #expect(headers.fields.map(\.name) == ["Host", "If-Match", "X-Empty", "if-match", "Content-Type", "If-Match"])
        #expect(headers.fields.map(\.value) == ["a", "\"1\"", "", "\"2\"", "application/JSON", "\"3\""])
        let same: HTTPHeaders = HTTPHeaders(headers.fields)
        #expect(headers == same)
        #expect(try head("GET / HTTP/1.1\r\n\r\n").headers.fields.isEmpty)
    }

    @Test("token bytes are RFC 9110's tchar, no more")
    func tokenBytes() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test("request line, target forms, headers and framing")
    func heads() throws {
        let post = try head(
            "\r\nPOST /v1/spawn?x=1#frag HTTP/1.1\r\nHost: a\r\ncontent-LENGTH:  12 \r\nConnection: keep-alive, Close\r\n\r\nbody"
        )
        #expect(post.method == .post)
        #expect(post.path == "/v1/spawn")
        #expect(post.query == "x=1")
        #expect(post.framing == .length(12))
        #expect(!post.keepAlive)
        #expect(post.headers["content-length"] == "12")
        #expect(post.length == 100, "through the blank line, the skipped leading CRLF included")
        let absolute = try head("GET http://example.com:80 HTTP/1.0\nConnection: keep-alive\n\n")
        #expect(absolute.path == "/")
        #expect(absolute.keepAlive)
        #expect(absolute.minorVersion == 0)
        #expect(try head("OPTIONS * HTTP/1.1\r\n\r\n").path == "*")
        #expect(try head("PROPFIND /x HTTP/1.1\r\n\r\n").method == .unrecognized)
        #expect(try head("get /x HTTP/1.1\r\n\r\n").method == .unrecognized, "methods are case-sensitive")
        let chunked = try head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n\r\n")
        #expect(chunked.framing == .chunked)
        #expect(chunked.expectsContinue)
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").keepAlive)
        #expect(try !head("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").expectsContinue, "no body, no 100")
    }

    @Test("incomplete heads wait; oversized ones fail as soon as they pass the limit")
    func incomplete() {
        guard case .incomplete = parse("GET / HTTP/1.1\r\nHost: a\r\n") else {
            Issue.record("expected incomplete")
            return
        }
        #expect(error("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200), maxSize: 100) == .headersTooLarge)
        #expect(error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", maxFields: 1) == .headersTooLarge)
    }

    @Test("malformed requests, smuggling shapes and unsupported codings are refused")
    func refusals() {
        for text in [
            "GET /\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET a HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\n: x\r\n\r\n", "GET / HTTP/1.1\r\nA b: x\r\n\r\n", "GET / HTTP/1.1\r\nA\r\n\r\n",
            "GET / HTTP/1.1\r\nA: x\u{1}y\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 9999999999999999\r\n\r\n",
            "GET / HTTP/1.1\r\nA: 1\r\n continued\r\n\r\n", "GET / HTTP/1.x\r\n\r\n",
        ] {
            guard case .malformed = error(text) else {
                Issue.record("accepted: \(text.debugDescription)")
                continue
            }
        }
        #expect(error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == .unsupportedTransferEncoding)
        #expect(error("GET / HTTP/2.0\r\n\r\n") == .unsupportedVersion)
    }

    @Test("chunked bodies: incomplete, complete with trailers, over the limit, malformed")
    func chunked() {
        func scan(_ text: String, limit: Int = 100) -> ChunkedBody.Scan {
            Array(text.utf8).withUnsafeBytes { ChunkedBody.scan($0, limit: limit, maxTrailerSize: 64) }
        }
        let body = "3\r\nabc\r\nA;x=y\r\n0123456789\r\n0\r\nT: 1\r\n\r\nGET"
        #expect(scan(body) == .complete(length: body.utf8.count - 3, bodySize: 13))
        let decoded = Array(body.utf8).withUnsafeBytes { ChunkedBody.decode($0, bodySize: 13) }
        #expect(String(decoding: decoded, as: UTF8.self) == "abc0123456789")
        #expect(scan("3\r\nab") == .incomplete(bodySize: 3))
        #expect(scan("3\r\nabc\r\n0\r\n") == .incomplete(bodySize: 3))
        #expect(scan("3\r\nabc\r\n", limit: 2) == .tooLarge)
        #expect(scan("FFFFFFFFF\r\n") == .tooLarge)
        #expect(scan("x\r\n") == .failed(.malformed("invalid chunk size")))
        #expect(scan("3\r\nabcd\r\n") == .failed(.malformed("chunk data not followed by CRLF")))
        #expect(scan("0\r\n" + String(repeating: "T: 1\r\n", count: 20)) == .failed(.headersTooLarge))
    }
}
