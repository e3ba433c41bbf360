import BusDomain
import BusHTTP
import BusOps
import BusRegions
import BusService
import Metrics

/// The gateway's metrics: spawn counters and latency, and the sampled region gauges.
final class GatewayMetrics: Sendable {
    let service: ServiceMetrics
    let spawns: RequestMetrics

    init(loops: Int, http: HTTPServerCounters) {
        spawns = RequestMetrics(
            counter: "biomebus_spawn_requests_total", counterHelp: "Spawn requests answered, by biome and HTTP status.",
            labelName: "biome", duration: "biomebus_spawn_duration_seconds",
            durationHelp: "Time from receiving a spawn to answering it.", loops: loops)
        service = ServiceMetrics(histograms: [spawns.duration], http: http)
    }

    /// The one-line `# HELP` of each gauge `publish` sets.
    private static let gaugeHelp: [String: String] = [
        "biomebus_region_up": "1 when the region's Redis answers, else 0.",
        "biomebus_region_shedding": "1 while the region refuses spawns above its memory high-water mark.",
        "biomebus_region_redis_used_memory_bytes": "Memory the region's Redis uses.",
        "biomebus_region_redis_max_memory_bytes": "The region's Redis maxmemory (0: no limit).",
        "biomebus_stream_length": "Entries in the biome's stream.",
        "biomebus_stream_maxlen": "The stream's approximate MAXLEN cap.",
        "biomebus_dead_letters": "Entries in the biome's dead-letter stream.",
        "biomebus_group_pending": "Entries delivered to the group and not acknowledged yet.",
        "biomebus_group_consumers": "Consumers registered in the group.",
        "biomebus_group_lag": "Entries in the stream not yet delivered to the group.",
        "biomebus_group_oldest_pending_age_seconds": "Age of the group's oldest unacknowledged entry (0 when none).",
    ]

    private func gauge(_ name: String, _ labels: [(String, String)]) -> Metrics.Recorder {
        assert(Self.gaugeHelp[name] != nil, "\(name) has no help text")
        return service.gauge(name, help: Self.gaugeHelp[name] ?? "", labels)
    }

    /// Publishes one sample of every region's figures as gauges.
    func publish(_ snapshot: RegionsSnapshot) {
        for region in snapshot.regions {
            let regionLabel = ("region", region.name)
            gauge("biomebus_region_up", [regionLabel]).record(region.up ? 1 : 0)
            gauge("biomebus_region_shedding", [regionLabel]).record(region.shedding ? 1 : 0)
            if let used = region.usedMemory {
                gauge("biomebus_region_redis_used_memory_bytes", [regionLabel]).record(used)
            }
            if let max = region.maxMemory {
                gauge("biomebus_region_redis_max_memory_bytes", [regionLabel]).record(max)
            }
            guard region.up else { continue }
            for biome in region.biomes {
                let labels = [regionLabel, ("biome", String(biome.biome.value))]
                gauge("biomebus_stream_length", labels).record(biome.length)
                gauge("biomebus_stream_maxlen", labels).record(biome.maxlen)
                gauge("biomebus_dead_letters", labels).record(biome.deadLetters)
                for group in biome.groups {
                    let groupLabels = labels + [("group", group.name)]
                    gauge("biomebus_group_pending", groupLabels).record(group.pending)
                    gauge("biomebus_group_consumers", groupLabels).record(group.consumers)
                    if let lag = group.lag { gauge("biomebus_group_lag", groupLabels).record(lag) }
                    gauge("biomebus_group_oldest_pending_age_seconds", groupLabels)
                        .record(Double(group.oldestPendingAgeMs ?? 0) / 1000)
                }
            }
        }
    }
}
