import PostgresReplication
import Windowing

/// Reads the capture rules the sink holds: for `run` (which level applies to which
/// transaction), `status` (each table's level) and `capture` (what is set already).
enum CaptureLevels {
    /// The slot's rules, oldest first.
    static func rules(slot: String, _ sink: PostgresConnection) throws(PostgresError) -> [CaptureRule] {
        try sink.query(
            """
            SELECT table_name, level, to_jsonb(columns)::text, to_jsonb(excluded_columns)::text, since_lsn::text
              FROM daybook.capture WHERE slot_name = $1 ORDER BY since_lsn
            """, [slot]
        ).rows.compactMap { row -> CaptureRule? in
            guard let table = row[0], let level = row[1].flatMap(CaptureLevel.init(rawValue:)) else { return nil }
            return CaptureRule(
                slot: slot, table: table, level: level, columns: row[2].flatMap(JSONText.strings),
                excludedColumns: row[3].flatMap(JSONText.strings) ?? [], sinceLSN: row[4].flatMap(parseLSN) ?? 0)
        }
    }

    /// One line per table with a rule, its current level first, for `daybook status`.
    static func statusLines(slot: String, _ sink: PostgresConnection) throws(PostgresError) -> [String] {
        let rules = try rules(slot: slot, sink)
        var latest: [String: CaptureRule] = [:]
        for rule in rules { latest[rule.table] = rule }
        guard !latest.isEmpty else { return ["capture levels: every table at keys (daybook capture TABLE LEVEL)"] }
        var lines = ["capture levels: keys unless listed (daybook capture TABLE LEVEL)"]
        for table in latest.keys.sorted() {
            let rule = latest[table]!
            var line = "  \(table): \(rule.level.rawValue) since LSN \(formatLSN(rule.sinceLSN))"
            if let columns = rule.columns { line += ", columns: key and \(columns.joined(separator: ", "))" }
            if !rule.excludedColumns.isEmpty { line += ", never: \(rule.excludedColumns.joined(separator: ", "))" }
            lines.append(line)
        }
        return lines
    }
}
