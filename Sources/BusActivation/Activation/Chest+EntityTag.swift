import BusChests
import BusDomain

extension Chest {
    /// The strong ETag of this version: `"<version>"`.
    package var entityTag: EntityTag { EntityTag(version: version) }
}
