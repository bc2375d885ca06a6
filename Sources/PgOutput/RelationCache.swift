/// The Relation messages seen so far on this stream, by OID.
///
/// pgoutput sends a table's Relation before its first change on a connection and again
/// after any change to its schema or replica identity; the newest always replaces the old.
/// After a reconnect the server sends them all again, so the cache never needs persisting.
public struct RelationCache: Sendable {
    private var relations: [UInt32: Relation] = [:]

    public init() {}

    /// Stores `relation`, replacing any earlier one with the same OID.
    public mutating func update(_ relation: Relation) { relations[relation.oid] = relation }

    public subscript(oid: UInt32) -> Relation? { relations[oid] }

    public var count: Int { relations.count }
}
