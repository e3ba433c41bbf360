import BusConfigFile
import Foundation

extension RegionCatalog {
    /// Reads every `*.yaml` / `*.yml` file of `directory` (sorted by name) into a catalog.
    /// Blocking file I/O: for startup and CLI commands, never on an event loop. `validation`:
    /// which rules apply (`.exceptConsumerTuning` for a process that runs no consumer).
    package static func load(
        directory: String, validation: RegionValidation = .full
    ) throws(ConfigFileError) -> RegionCatalog {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
        } catch {
            throw ConfigFileError(file: directory, key: "", message: "cannot read the regions directory")
        }
        guard !names.isEmpty else {
            throw ConfigFileError(file: directory, key: "", message: "no region files (*.yaml) found")
        }
        var regions: [RegionConfig] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
            else {
                throw ConfigFileError(file: path, key: "", message: "cannot read the file as UTF-8 text")
            }
            regions.append(try RegionConfig.parse(yaml: text, file: path, validation: validation))
        }
        return try RegionCatalog(regions: regions)
    }
}
