import BusConfigFile
import BusDomain

/// Every configured region, with the biome → region index the gateway routes by.
package struct RegionCatalog: Sendable, Equatable {
    package let regions: [RegionConfig]
    private let regionIndexByBiome: [BiomeID: Int]

    /// Builds the catalog; throws when a name or a biome appears twice.
    package init(regions: [RegionConfig]) throws(ConfigFileError) {
        var indexByBiome: [BiomeID: Int] = [:]
        var fileByName: [String: String] = [:]
        for (index, region) in regions.enumerated() {
            if let other = fileByName[region.name] {
                throw ConfigFileError(
                    file: region.sourceFile, key: "name",
                    message: "region \"\(region.name)\" is already defined in \(other)")
            }
            fileByName[region.name] = region.sourceFile
            for biome in region.biomes {
                if let other = indexByBiome[biome] {
                    throw ConfigFileError(
                        file: region.sourceFile, key: "biomes",
                        message:
                            "biome \(biome) already belongs to region \"\(regions[other].name)\" (\(regions[other].sourceFile))"
                    )
                }
                indexByBiome[biome] = index
            }
        }
        self.regions = regions
        self.regionIndexByBiome = indexByBiome
    }

    /// The index into `regions` of the region that owns `biome`.
    package func regionIndex(of biome: BiomeID) -> Int? {
        regionIndexByBiome[biome]
    }

    package func region(named name: String) -> RegionConfig? {
        regions.first { $0.name == name }
    }

    /// Every biome with its region, sorted by biome id.
    package var allBiomes: [(biome: BiomeID, region: RegionConfig)] {
        regionIndexByBiome.sorted { $0.key < $1.key }.map { (biome: $0.key, region: regions[$0.value]) }
    }

    /// The distinct Redis servers, in first-use order.
    package var redisAddresses: [RedisAddress] {
        var seen = Set<RedisAddress>()
        return regions.map(\.redis).filter { seen.insert($0).inserted }
    }
}
