import DaybookCore
import PostgresReplication
import Windowing

/// Publishes only the columns a table's capture level needs (PostgreSQL 15 column lists):
/// the key alone for `counts` and `keys`, the captured columns and the key for `values`. The
/// server then formats and sends less, and an excluded column never leaves it.
///
/// PostgreSQL allows a column list only where it can honour it: in a publication of tables
/// (not `TABLES IN SCHEMA` or `ALL TABLES`), and for a table whose replica identity is not
/// `FULL` (an old row must be whole). Elsewhere the table stays published whole and the
/// caller is told why; Daybook still drops excluded columns itself before storing anything.
enum PublicationColumns {
    /// What can be published for `table`, and what is published now.
    struct Plan {
        /// The columns to publish, in table order; nil when the table must stay whole.
        var columns: [String]?
        /// Why the table stays whole (nil when a list applies).
        var reason: String?
        /// The columns published now (every column when there is no list).
        var published: [String]
    }

    static func plan(
        for rule: CaptureRule,
        publication: String,
        _ source: PostgresConnection
    ) throws -> Plan {
        let row = try source.query(
            """
            SELECT p.puballtables,
                   EXISTS (SELECT 1 FROM pg_publication_namespace n WHERE n.pnpubid = p.oid),
                   (SELECT to_jsonb(t.attnames)::text FROM pg_publication_tables t
                     WHERE t.pubname = p.pubname AND t.schemaname || '.' || t.tablename = $2),
                   (SELECT c.relreplident FROM pg_class c WHERE c.oid = $3::regclass)::text,
                   current_setting('server_version_num')::integer >= 150000
              FROM pg_publication p WHERE p.pubname = $1
            """,
            [publication, rule.table, source.quoteQualifiedName(rule.table)]
        ).rows.first
        let columns = try CaptureSetting.columnsWithKeyFlag(of: rule.table, source)
        let all = columns.map(\.name)
        let published = row?[2].flatMap(JSONText.strings) ?? all
        guard let row else {
            return Plan(
                columns: nil,
                reason: "publication \(publication) does not exist (daybook setup --publication \(publication))",
                published: []
            )
        }
        if row[4] != "t" {
            return Plan(columns: nil, reason: "column lists need PostgreSQL 15 or later", published: all)
        }
        if row[2] == nil {
            return Plan(
                columns: nil,
                reason: "\(rule.table) is not in publication \(publication), so none of its changes reach Daybook: "
                    + "ALTER PUBLICATION \(source.quoteIdentifier(publication)) ADD TABLE \(source.quoteQualifiedName(rule.table))",
                published: []
            )
        }
        if row[0] == "t" || row[1] == "t" {
            return Plan(
                columns: nil,
                reason: "publication \(publication) publishes \(row[0] == "t" ? "all tables" : "whole schemas"), "
                    + "whose columns PostgreSQL cannot limit (publish tables instead: daybook setup --tables)",
                published: all
            )
        }
        if row[3] == "f" {
            return Plan(
                columns: nil,
                reason: "\(rule.table) has REPLICA IDENTITY FULL, so PostgreSQL publishes every column of it",
                published: published
            )
        }
        let keys = Set(columns.filter(\.isKey).map(\.name))
        let wanted: [String]
        switch rule.level {
        case .counts, .keys:
            wanted = all.filter { keys.contains($0) }
        case .values:
            let only = rule.columns.map(Set.init)
            let excluded = Set(rule.excludedColumns)
            wanted = all.filter { keys.contains($0) || (!excluded.contains($0) && (only?.contains($0) ?? true)) }
        }
        // Without a key the table cannot be narrowed (its updates need every column).
        guard !keys.isEmpty else {
            return Plan(columns: nil, reason: "\(rule.table) has no replica identity key", published: published)
        }
        return Plan(columns: wanted, reason: nil, published: published)
    }

    /// Publishes exactly `columns` of `table` (all of them when nil), in one source transaction.
    static func publish(
        _ columns: [String]?,
        of table: String,
        in publication: String,
        _ source: PostgresConnection
    ) throws {
        let name = source.quoteQualifiedName(table)
        let list = columns.map { " (" + $0.map(source.quoteIdentifier).joined(separator: ", ") + ")" } ?? ""
        let quotedPublication = source.quoteIdentifier(publication)
        try source.withTransaction {
            try source.simpleQuery("ALTER PUBLICATION \(quotedPublication) DROP TABLE \(name)")
            try source.simpleQuery("ALTER PUBLICATION \(quotedPublication) ADD TABLE \(name)\(list)")
        }
    }
}
