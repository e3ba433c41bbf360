import BusDomain
import BusService

/// The spawn API's own error answers; the generic ones (400s, 404, 405, 413, 415, 500) are the
/// chassis' `APIError` cases.
extension APIError {
    package static func unknownBiome(_ biome: BiomeID) -> APIError {
        APIError(status: 404, code: "unknown_biome", message: "biome \(biome) belongs to no configured region")
    }

    package static func regionUnavailable(_ region: String, reason: String) -> APIError {
        APIError(
            status: 503, code: "region_unavailable", message: "region \(region) is unavailable: \(reason)",
            retryAfter: 1)
    }

    /// The append may exist, but fewer replicas than `stream.durability.replicas` acknowledged
    /// it in time: a retry with the same `Idempotency-Key` or `chest_id` creates no second chest.
    package static func regionDegraded(_ region: String, reason: String) -> APIError {
        APIError(
            status: 503, code: "region_degraded", message: "region \(region) is degraded: \(reason)", retryAfter: 1)
    }

    package static func regionOverloaded(_ region: String, reason: String) -> APIError {
        APIError(
            status: 503, code: "region_overloaded", message: "region \(region) is overloaded: \(reason)", retryAfter: 1)
    }
}
