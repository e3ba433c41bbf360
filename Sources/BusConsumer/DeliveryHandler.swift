import BusDomain

/// One entry handed to a handler.
package struct Delivery: Sendable {
    package let key: EntryKey
    /// The entry's fields as written (the gateway writes type, coords, chest_id, ts).
    package let fields: [String: String]
    /// Which delivery this is (1 for the first).
    package let deliveries: Int

    package init(key: EntryKey, fields: [String: String], deliveries: Int) {
        self.key = key
        self.fields = fields
        self.deliveries = deliveries
    }
}

/// Why a handler failed; the message ends up in the dead-letter entry's `error` field.
package struct HandlerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    /// The failure says nothing about the entry (the database was unavailable, timed out, or
    /// answered with a transient SQLSTATE): the entry is retried after the backoff, the retry
    /// is not counted as a delivery, and it is never dead-lettered for it.
    package let isTransient: Bool

    package init(_ description: String, transient: Bool = false) {
        self.description = description
        self.isTransient = transient
    }
}

/// What a consumer does with each entry: the unit of pluggability.
///
/// `handle` is called on the consumer's loop and must call `completion` exactly once, on that
/// loop. It must be idempotent: an entry can be delivered again (after a crash, a reclaim, or
/// an acknowledgement Redis never confirmed). A handler that does not complete within the
/// consumer's handler timeout counts as failed; its late completion is ignored.
package protocol DeliveryHandler: AnyObject {
    func handle(_ entry: Delivery, completion: @escaping (Result<Void, HandlerFailure>) -> Void)
}
