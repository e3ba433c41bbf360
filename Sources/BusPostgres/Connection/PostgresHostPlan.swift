import BusLoop

/// Which host names of a libpq connection string to resolve before connecting, and the
/// `host`/`hostaddr`/`port` lists to connect with once they are resolved. Pure: no I/O.
///
/// libpq resolves `host` with the blocking `getaddrinfo` inside `PQconnectStartParams` and
/// `PQconnectPoll`, unless `hostaddr` gives the address; `host` then still names the server for
/// TLS (SNI, `verify-full`), `.pgpass` and Kerberos. A multi-host list
/// (`postgresql://h1:5432,h2:5433/db`) keeps libpq's semantics: every name is resolved, each of
/// its addresses becomes one entry (as libpq would try each address of a name), entries stay in
/// order, and a name that cannot be resolved is left out, as libpq skips a host it cannot reach.
/// Unix-socket paths and IP addresses are passed through untouched.
package struct PostgresHostPlan: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var host: String
        var port: String?
        var needsLookup: Bool
    }

    let entries: [Entry]
    /// True when the connection string gave one port per host (a list to expand with them).
    let portPerHost: Bool

    /// The plan for the URL's `host`, `hostaddr` and `port` values, or nil when libpq needs no
    /// lookup (no host name, or `hostaddr` already given) or would reject the lists itself.
    package init?(host: String?, hostaddr: String?, port: String?) {
        guard hostaddr?.isEmpty ?? true, let host, !host.isEmpty else { return nil }
        let hosts = host.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let ports = port.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        // One port applies to every host; otherwise libpq wants one per host and reports the
        // mismatch before connecting anywhere.
        guard ports.count <= 1 || ports.count == hosts.count else { return nil }
        portPerHost = ports.count > 1
        entries = hosts.enumerated().map { index, name in
            Entry(
                host: name, port: ports.count > 1 ? ports[index] : nil,
                needsLookup:
                    !(name.isEmpty || name.hasPrefix("/") || name.hasPrefix("@")
                    || NameResolver.isNumericAddress(name)))
        }
        guard entries.contains(where: \.needsLookup) else { return nil }
    }

    /// The distinct names to resolve, in order.
    package var names: [String] {
        var seen: [String] = []
        for entry in entries where entry.needsLookup && !seen.contains(entry.host) { seen.append(entry.host) }
        return seen
    }

    /// The lists to hand libpq (overriding the URL's) given each name's addresses; nil when no
    /// entry is left (every name failed to resolve). `port` is nil when the URL's own single
    /// port (or the default) applies to every entry.
    package func parameters(resolved: [String: [String]]) -> (host: String, hostaddr: String, port: String?)? {
        var hosts: [String] = []
        var addresses: [String] = []
        var ports: [String] = []
        for entry in entries {
            // An empty hostaddr item makes libpq use the host item itself (a socket path or an
            // IP address, neither of which needs a lookup).
            let resolvedAddresses = entry.needsLookup ? resolved[entry.host] ?? [] : [""]
            for address in resolvedAddresses {
                hosts.append(entry.host)
                addresses.append(address)
                ports.append(entry.port ?? "")
            }
        }
        guard !hosts.isEmpty else { return nil }
        return (
            hosts.joined(separator: ","), addresses.joined(separator: ","),
            portPerHost ? ports.joined(separator: ",") : nil
        )
    }

    /// libpq's `host`, `hostaddr` and `port` lists, comma-separated (`port` nil: the URL's own
    /// single port, or the default, applies to every entry).
    package typealias Lists = (host: String, hostaddr: String, port: String?)

    /// The lists without the entries up to and including the one libpq is trying (as `PQhost`,
    /// `PQhostaddr` and `PQport` report it), to restart a multi-host connect on the next host
    /// when that one did not answer within the connect timeout: in non-blocking mode libpq
    /// applies no `connect_timeout` and would wait on a silent host for as long as TCP does.
    /// Nil when it was the last entry, or cannot be told apart.
    package static func remaining(_ lists: Lists, after host: String, hostaddr: String?, port: String?) -> Lists? {
        let hosts = lists.host.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard hosts.count > 1 else { return nil }
        var addresses = lists.hostaddr.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if addresses.count != hosts.count { addresses = Array(repeating: "", count: hosts.count) }
        let ports = lists.port.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let portPerHost = (ports?.count ?? 0) == hosts.count && hosts.count > 1
        let current = hosts.indices.first { index in
            let named = hosts[index] == host || (hosts[index].isEmpty && addresses[index] == host)
            let sameAddress = addresses[index].isEmpty || (hostaddr ?? "").isEmpty || addresses[index] == hostaddr
            let samePort = !portPerHost || port == nil || ports![index] == port || ports![index].isEmpty
            return named && sameAddress && samePort
        }
        guard let current, current + 1 < hosts.count else { return nil }
        let rest = (current + 1)..<hosts.count
        return (
            rest.map { hosts[$0] }.joined(separator: ","), rest.map { addresses[$0] }.joined(separator: ","),
            portPerHost ? rest.map { ports![$0] }.joined(separator: ",") : lists.port
        )
    }
}
