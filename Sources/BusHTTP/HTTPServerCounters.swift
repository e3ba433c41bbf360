import Synchronization

/// Figures shared by every `HTTPServer` of one service (one per loop): the open connections
/// that the connection cap is checked against, requests in flight, and what the limits refused.
///
/// Atomics, so that any loop updates them without a lock and a scrape reads them from anywhere.
package final class HTTPServerCounters: Sendable {
    let openConnections = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    let timedOut = Atomic<Int>(0)
    let acceptFailures = Atomic<Int>(0)

    package init() {}

    /// Connections open now, including ones being refused.
    package var connections: Int { openConnections.load(ordering: .relaxed) }
    /// Requests received whose reply has not been written yet.
    package var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }
    /// Connections closed at once because the connection cap was reached.
    package var refusedConnections: Int { refused.load(ordering: .relaxed) }
    /// Connections closed because a request did not arrive complete within the request timeout.
    package var requestTimeouts: Int { timedOut.load(ordering: .relaxed) }
    /// accept() calls that failed for want of descriptors or memory (each pauses accepting).
    package var acceptErrors: Int { acceptFailures.load(ordering: .relaxed) }

    /// The figures in the Prometheus text format, each with `# HELP` and `# TYPE`.
    package func prometheusText() -> String {
        """
        # HELP biomebus_http_connections HTTP connections open now.
        # TYPE biomebus_http_connections gauge
        biomebus_http_connections \(connections)
        # HELP biomebus_http_requests_in_flight HTTP requests received whose reply is not written yet.
        # TYPE biomebus_http_requests_in_flight gauge
        biomebus_http_requests_in_flight \(requestsInFlight)
        # HELP biomebus_http_connections_refused_total Connections closed at once because the connection cap was reached.
        # TYPE biomebus_http_connections_refused_total counter
        biomebus_http_connections_refused_total \(refusedConnections)
        # HELP biomebus_http_request_timeouts_total Connections closed because a request did not arrive complete in time.
        # TYPE biomebus_http_request_timeouts_total counter
        biomebus_http_request_timeouts_total \(requestTimeouts)
        # HELP biomebus_http_accept_errors_total Failed accepts (descriptor limit); each pauses accepting briefly.
        # TYPE biomebus_http_accept_errors_total counter
        biomebus_http_accept_errors_total \(acceptErrors)

        """
    }
}
