/// What a `RedisConnection` connects to: one server at a fixed address, or whichever server the
/// Sentinels currently name as master (and `ROLE` confirmed).
///
/// Loop-bound, like the connection: a `SentinelMaster` belongs to one loop and is shared by the
/// connections of that loop that talk to the same master.
package enum RedisEndpoint {
    case server(RedisServerAddress)
    case sentinelMaster(SentinelMaster)
}
