import PostgresReplication

extension PostgresConnection {
    /// Quotes `schema.table` (or `table`) for SQL text, each part on its own, for the DDL that
    /// cannot take a table as a bind parameter (publications).
    func quoteQualifiedName(_ name: String) -> String {
        name.split(separator: ".", maxSplits: 1).map { quoteIdentifier(String($0)) }.joined(separator: ".")
    }
}
