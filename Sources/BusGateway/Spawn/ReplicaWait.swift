import BusRedis
import BusRegions
import BusService

/// `stream.durability`: the `WAIT` that follows a region's appends on the same connection.
///
/// It is sent right after the append, before its reply is awaited, so both leave in one write
/// and the server runs them back to back; `WAIT` then covers every earlier write of the
/// connection, so one `WAIT` after a batch's share covers the whole share.
struct ReplicaWait {
    let durability: StreamDurability
    let region: String

    /// Nil when the region asks for no replica acknowledgement.
    init?(_ region: RegionConfig) {
        guard region.stream.durability.replicas > 0 else { return nil }
        durability = region.stream.durability
        self.region = region.name
    }

    /// `WAIT replicas timeout_ms`.
    var command: RedisCommand {
        RedisCommand("WAIT", .integer(Int64(durability.replicas)), .integer(Int64(durability.timeoutMs)))
    }

    /// Sends the `WAIT` on `connection` with time for its own timeout on top of the connection's
    /// command timeout; `completion` gets nil when enough replicas acknowledged, else the 503.
    func send(on connection: RedisConnection, _ completion: @escaping (APIError?) -> Void) {
        let timeout = connection.configuration.commandTimeout + .milliseconds(durability.timeoutMs)
        connection.send(command, timeout: timeout) { reply in completion(refusal(reply)) }
    }

    /// What a `WAIT` reply means for the appends it covers.
    func refusal(_ reply: Result<RedisReply, RedisError>) -> APIError? {
        switch reply {
        case .success(.integer(let acknowledged)) where acknowledged >= durability.replicas:
            return nil
        case .success(.integer(let acknowledged)):
            return .regionDegraded(
                region,
                reason:
                    "\(acknowledged) of \(durability.replicas) replicas acknowledged within \(durability.timeoutMs) ms")
        case .success:
            return .regionDegraded(region, reason: "unexpected WAIT reply")
        case .failure(let error):
            return .regionDegraded(region, reason: "replication could not be confirmed: \(error)")
        }
    }

    /// An accepted append becomes the refusal when replication fell short; a refused one stays.
    static func combine(_ outcome: SpawnPipeline.Outcome, _ refusal: APIError?) -> SpawnPipeline.Outcome {
        guard case .accepted = outcome, let refusal else { return outcome }
        return .refused(refusal)
    }
}
