import BusHTTP
import Testing

@testable import BusService

@Suite("ReadinessReport: one /readyz body for every service")
struct ReadinessReportTests {
    private func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test("ready: 200 {\"status\":\"ready\"}, no Retry-After; an empty list keeps it ready")
    func ready() {
        var report = ReadinessReport.ready
        report.add(.postgres, [])
        #expect(report.isReady)
        #expect(report.response.status == 200)
        #expect(text(report.response) == #"{"status":"ready"}"#)
        #expect(report.response.headers["Retry-After"] == nil)
    }

    @Test("the gateway's bytes: regions with their Redis and latest error")
    func gatewayGolden() {
        var report = ReadinessReport()
        report.add(
            .regions,
            [
                .init(name: "north", address: "redis://h:1/0", error: "connection refused"),
                .init(name: "south", address: "redis://h:2/0", error: "connecting"),
            ])
        #expect(report.response.status == 503)
        #expect(report.response.headers["Retry-After"] == "1")
        #expect(report.response.headers["Content-Type"] == "application/json")
        #expect(
            text(report.response)
                == #"{"error":{"code":"not_ready","message":"regions not answering: north, south"},"#
                + #""regions":[{"name":"north","redis":"redis://h:1/0","error":"connection refused"},"#
                + #"{"name":"south","redis":"redis://h:2/0","error":"connecting"}]}"#)
    }

    @Test("one list per kind, in the order added, each with its address key; the message names them all")
    func kinds() {
        var report = ReadinessReport()
        report.add(.redis, [.init(name: "north", address: "redis://h:1/0", error: "not connected")])
        report.add(.postgres, [.init(name: "biomebus-consumer", address: "postgresql://u@db/x", error: "refused")])
        #expect(report.message == "redis not answering: north; postgres not answering: biomebus-consumer")
        #expect(
            text(report.response)
                == #"{"error":{"code":"not_ready","message":"redis not answering: north; postgres not answering: "#
                + #"biomebus-consumer"},"redis":[{"name":"north","redis":"redis://h:1/0","error":"not connected"}],"#
                + #""postgres":[{"name":"biomebus-consumer","postgres":"postgresql://u@db/x","error":"refused"}]}"#)
    }
}
