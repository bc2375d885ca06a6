import DaybookCore
import PgOutput
import PostgresReplication

/// The primary keys of the published tables, read from the catalog once when a session is set
/// up, so that a Relation message in the stream loop costs no query.
///
/// pgoutput's Relation message marks the replica identity's columns, which are the primary
/// key only under `REPLICA IDENTITY DEFAULT`; Daybook keys rows by the primary key whatever
/// the identity, so it needs the catalog. A table it has not read (one added to a
/// publication since) is looked up when its Relation message arrives, and so is a table whose
/// Relation message changed (an `ALTER TABLE` may have changed the key too); either is rare.
struct PrimaryKeyCatalog {
    /// Table OID → primary key columns in key order, nil for a table without one.
    private var keys: [UInt32: [String]?]

    /// Reads the primary keys of every table in `publications`.
    static func load(publications: [String], on connection: PostgresConnection) throws(DaybookError) -> Self {
        var keys: [UInt32: [String]?] = [:]
        for publication in publications {
            let published = try DaybookError.mapping(role: .source) {
                try read(
                    tablesWhere: """
                        c.oid IN (SELECT format('%I.%I', schemaname, tablename)::regclass
                                    FROM pg_publication_tables WHERE pubname = $1)
                        """,
                    publication,
                    on: connection
                )
            }
            keys.merge(published) { _, new in new }
        }
        return Self(keys: keys)
    }

    /// The primary key for a Relation message; `previous` is the relation as registered before
    /// in this session (nil for its first Relation message).
    mutating func primaryKey(
        of relation: Relation,
        changedFrom previous: Relation?,
        on connection: PostgresConnection
    ) throws(DaybookError) -> [String]? {
        if previous == nil || previous == relation, let known = keys[relation.oid] { return known }
        let key = try DaybookError.mapping(role: .source) { try Self.lookUp(relation.oid, on: connection) }
        keys[relation.oid] = .some(key)
        return key
    }

    /// The primary key columns of one table, in key order; nil when it has none.
    private static func lookUp(_ oid: UInt32, on connection: PostgresConnection) throws(PostgresError) -> [String]? {
        try read(tablesWhere: "c.oid = $1::oid", String(oid), on: connection)[oid] ?? nil
    }

    /// The primary keys of the tables `condition` selects from `pg_class c` (with `parameter`
    /// as `$1`): each table's key columns in key order, nil for a table without one.
    private static func read(
        tablesWhere condition: String,
        _ parameter: String,
        on connection: PostgresConnection
    ) throws(PostgresError) -> [UInt32: [String]?] {
        let result = try connection.query(
            """
            SELECT c.oid::text, a.attname
              FROM pg_class c
              LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
              LEFT JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON true
              LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE \(condition)
             ORDER BY c.oid, k.position
            """,
            [parameter]
        )
        var columns: [UInt32: [String]] = [:]
        for row in result.rows {
            guard let oid = row[0].flatMap({ UInt32($0) }) else { continue }
            columns[oid, default: []] += row[1].map { [$0] } ?? []
        }
        return columns.mapValues { $0.isEmpty ? nil : $0 }
    }
}
