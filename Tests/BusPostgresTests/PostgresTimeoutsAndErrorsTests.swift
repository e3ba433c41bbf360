import Testing

@testable import BusPostgres

@Suite("Server-side timeouts and transient errors")
struct PostgresTimeoutsAndErrorsTests {
    @Test("statement_timeout and lock_timeout are 90 % of the client's deadline, before the URL's own options")
    func startupOptions() {
        var configuration = PostgresConfiguration(url: "postgresql://u@127.0.0.1/db")
        configuration.queryTimeout = .seconds(2)
        #expect(configuration.serverStatementTimeout == .milliseconds(1800))
        #expect(
            configuration.startupOptions(urlOptions: nil) == "-c statement_timeout=1800 -c lock_timeout=1800")
        // The URL's settings come last, so a statement_timeout there wins.
        #expect(
            configuration.startupOptions(urlOptions: "-c statement_timeout=5000")
                == "-c statement_timeout=1800 -c lock_timeout=1800 -c statement_timeout=5000")
        configuration.queryTimeout = .milliseconds(1)
        #expect(configuration.serverStatementTimeout == .milliseconds(1), "never 0, which would mean no timeout")
        configuration.serverTimeouts = false
        #expect(configuration.serverStatementTimeout == nil)
        #expect(configuration.startupOptions(urlOptions: nil) == nil)
        #expect(configuration.startupOptions(urlOptions: "-c search_path=x") == "-c search_path=x")
    }

    @Test("the URL's options are read the way libpq parses them, from a URI or a key=value string")
    func urlOptions() {
        #expect(
            PostgresConnection.connectionOption(
                "options", in: "postgresql://u@127.0.0.1:5432/db?options=-c%20search_path%3Dx") == "-c search_path=x")
        #expect(PostgresConnection.connectionOption("options", in: "host=127.0.0.1 options='-c a=b'") == "-c a=b")
        #expect(PostgresConnection.connectionOption("options", in: "postgresql://u@127.0.0.1/db") == nil)
        #expect(PostgresConnection.connectionOption("options", in: "postgresql://[broken") == nil)
    }

    @Test("transient SQLSTATEs and every non-server error are transient; other server errors are not")
    func transient() {
        for sqlState in ["57014", "40P01", "55P03", "25006", "57P01", "40001", "08006"] {
            #expect(PostgresError.server(sqlState: sqlState, message: "x").isTransient, "\(sqlState)")
        }
        for sqlState in ["23505", "42P01", "22P02", ""] {
            #expect(!PostgresError.server(sqlState: sqlState, message: "x").isTransient, "\(sqlState)")
        }
        for error in [PostgresError.unavailable, .timedOut, .poolExhausted, .connectionLost] {
            #expect(error.isTransient)
        }
    }
}
