import BusDomain

/// Every configured region, with the biome → region index the gateway routes by.
public struct RegionCatalog: Sendable, Equatable {
    public let regions: [RegionConfig]
    private let regionIndexByBiome: [BiomeID: Int]

    /// Builds the catalog; throws when a name or a biome appears twice.
    public init(regions: [RegionConfig]) throws(RegionConfigError) {
        var indexByBiome: [BiomeID: Int] = [:]
        var fileByName: [String: String] = [:]
        for (index, region) in regions.enumerated() {
            if let other = fileByName[region.name] {
                throw RegionConfigError(
                    file: region.sourceFile, key: "name",
                    message: "region \"\(region.name)\" is already defined in \(other)")
            }
            fileByName[region.name] = region.sourceFile
            for biome in region.biomes {
                if let other = indexByBiome[biome] {
                    throw RegionConfigError(
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
    public func regionIndex(of biome: BiomeID) -> Int? {
        regionIndexByBiome[biome]
    }

    public func region(named name: String) -> RegionConfig? {
        regions.first { $0.name == name }
    }

    /// Every biome with its region, sorted by biome id.
    public var allBiomes: [(biome: BiomeID, region: RegionConfig)] {
        regionIndexByBiome.sorted { $0.key < $1.key }.map { (biome: $0.key, region: regions[$0.value]) }
    }

    /// The distinct Redis servers, in first-use order.
    public var redisAddresses: [RedisAddress] {
        var seen = Set<RedisAddress>()
        return regions.map(\.redis).filter { seen.insert($0).inserted }
    }
}

/// A configuration mistake, naming the file and the key.
public struct RegionConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// Dotted path to the key (`consumer.backoff.jitter`); empty for the whole file.
    public let key: String
    public let message: String

    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)"
    }
}
