import BusPostgres
import Testing

@Suite("PostgresHostPlan: which hosts to resolve, and the lists libpq connects with")
struct PostgresHostPlanTests {
    @Test("after a host that timed out, the lists start at the next one; none after the last")
    func remainingHosts() throws {
        // Two hosts, a port each (a URL's `h1:5432,h2:5433`).
        let perHost = try #require(
            PostgresHostPlan.remaining(("h1,h2", "", "5432,5433"), after: "h1", hostaddr: nil, port: "5432"))
        #expect(perHost.host == "h2" && perHost.hostaddr == "" && perHost.port == "5433")
        #expect(PostgresHostPlan.remaining(("h1,h2", "", "5432,5433"), after: "h2", hostaddr: nil, port: "5433") == nil)
        // The same address twice on different ports: the port tells them apart.
        let samePlace = try #require(
            PostgresHostPlan.remaining(
                ("127.0.0.1,127.0.0.1", "", "1,2"), after: "127.0.0.1", hostaddr: "127.0.0.1", port: "1"))
        #expect(samePlace.host == "127.0.0.1" && samePlace.port == "2")
        // A resolved plan: one name with two addresses, then another name; one shared port.
        let resolved = try #require(
            PostgresHostPlan.remaining(
                ("db,db,db2", "10.0.0.1,10.0.0.2,10.0.0.3", nil), after: "db", hostaddr: "10.0.0.1", port: "5432"))
        #expect(resolved.host == "db,db2" && resolved.hostaddr == "10.0.0.2,10.0.0.3" && resolved.port == nil)
        // One host, or one libpq is not trying: nothing to move on to.
        #expect(PostgresHostPlan.remaining(("h1", "", nil), after: "h1", hostaddr: nil, port: nil) == nil)
        #expect(PostgresHostPlan.remaining(("h1,h2", "", nil), after: "other", hostaddr: nil, port: nil) == nil)
    }

    @Test("nothing to resolve: no host, hostaddr given, sockets, IP addresses, mismatched ports")
    func leftToLibpq() {
        #expect(PostgresHostPlan(host: nil, hostaddr: nil, port: nil) == nil)
        #expect(PostgresHostPlan(host: "", hostaddr: nil, port: "5432") == nil)
        #expect(PostgresHostPlan(host: "db", hostaddr: "10.0.0.5", port: nil) == nil)
        #expect(PostgresHostPlan(host: "/var/run/postgresql", hostaddr: nil, port: nil) == nil)
        #expect(PostgresHostPlan(host: "127.0.0.1,::1", hostaddr: nil, port: "5432") == nil)
        // libpq itself rejects 2 ports for 3 hosts before connecting anywhere.
        #expect(PostgresHostPlan(host: "a,b,c", hostaddr: nil, port: "1,2") == nil)
    }

    @Test("one name: every address becomes an entry, the name kept as host for TLS and .pgpass")
    func oneName() throws {
        let plan = try #require(PostgresHostPlan(host: "db.example", hostaddr: "", port: "5433"))
        #expect(plan.names == ["db.example"])
        let lists = try #require(plan.parameters(resolved: ["db.example": ["10.0.0.1", "10.0.0.2"]]))
        #expect(lists.host == "db.example,db.example")
        #expect(lists.hostaddr == "10.0.0.1,10.0.0.2")
        // The URL's single port still applies to every entry.
        #expect(lists.port == nil)
        #expect(plan.parameters(resolved: [:]) == nil)
    }

    @Test("several hosts: order kept, per-host ports expanded, unresolvable names left out")
    func multiHost() throws {
        let plan = try #require(PostgresHostPlan(host: "h1,10.0.0.9,h2,/tmp,h1", hostaddr: nil, port: "1,2,3,4,5"))
        #expect(plan.names == ["h1", "h2"])
        let lists = try #require(plan.parameters(resolved: ["h1": ["10.0.0.1", "fd00::1"]]))
        #expect(lists.host == "h1,h1,10.0.0.9,/tmp,h1,h1")
        #expect(lists.hostaddr == "10.0.0.1,fd00::1,,,10.0.0.1,fd00::1")
        #expect(lists.port == "1,1,2,4,5,5")
    }
}

@Suite("PostgresURLRedaction: connection-string passwords never reach a message")
struct PostgresURLRedactionTests {
    @Test("URIs: user info and password parameters")
    func uris() {
        #expect(
            PostgresURLRedaction.redacted("postgresql://app:s3cret@db:5432/chests?sslmode=require")
                == "postgresql://app:***@db:5432/chests?sslmode=require")
        #expect(
            PostgresURLRedaction.redacted("postgres://app@db/x?password=s3cret&sslpassword=k3y&application_name=a")
                == "postgres://app@db/x?password=***&sslpassword=***&application_name=a")
        #expect(PostgresURLRedaction.redacted("postgresql://db/x") == "postgresql://db/x")
        #expect(PostgresURLRedaction.redacted("postgresql://a:p@ss@h1,h2/x") == "postgresql://a:***@h1,h2/x")
    }

    @Test("key=value strings, quoted or not")
    func keywords() {
        #expect(
            PostgresURLRedaction.redacted("host=db password=s3cret user=app")
                == "host=db password=*** user=app")
        #expect(
            PostgresURLRedaction.redacted("host=db password = 'it\\'s secret' dbname=x")
                == "host=db password = *** dbname=x")
    }

    @Test("libpq's messages quoting the string or its pieces are cleaned, raw and decoded")
    func messages() {
        let url = "postgresql://app:s3%zzcret@db/x"
        let libpq = #"invalid percent-encoded token: "s3%zzcret""#
        #expect(PostgresURLRedaction.redacting(libpq, of: url) == #"invalid percent-encoded token: "***""#)
        let whole = "postgresql://app:s3cret@[::1/x"
        let quoted =
            #"end of string reached when looking for matching "]" in IPv6 host address in URI: ""# + whole + "\""
        let cleaned = PostgresURLRedaction.redacting(quoted, of: whole)
        #expect(!cleaned.contains("s3cret"))
        #expect(cleaned.contains("postgresql://app:***@[::1/x"))
        let encoded = "postgresql://app:p%40ss@db/x"
        #expect(PostgresURLRedaction.redacting("bad p@ss and p%40ss", of: encoded) == "bad *** and ***")
        let keyword = "host=db password='it\\'s secret'"
        #expect(!PostgresURLRedaction.redacting("saw it's secret", of: keyword).contains("secret"))
    }
}
