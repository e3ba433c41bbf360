import BusChests
import BusDomain

extension Chest {
    /// The strong ETag of this version: `"<version>"`.
    public var entityTag: EntityTag { EntityTag(version: version) }
}
