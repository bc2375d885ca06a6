import DaybookCore
import PostgresReplication
import WAL
import Windowing

/// Reads the capture rules the sink holds: for `run` (which level applies to which
/// transaction), `status` (each table's level) and `capture` (what is set already).
enum CaptureLevels {
    /// The slot's rules, oldest first.
    static func rules(slot: String, _ sink: PostgresConnection) throws(PostgresError) -> [CaptureRule] {
        try sink.query(
            """
            SELECT table_name, level, to_jsonb(columns)::text, to_jsonb(excluded_columns)::text, since_lsn::text,
                   to_jsonb(hashed_columns)::text, key_file, key_id, to_jsonb(masked_columns)::text
              FROM daybook.capture WHERE slot_name = $1 ORDER BY since_lsn
            """,
            [slot]
        ).rows.compactMap { row -> CaptureRule? in
            guard let table = row[0], let level = row[1].flatMap(CaptureLevel.init(rawValue:)) else { return nil }
            var rule = CaptureRule(
                slot: slot,
                table: table,
                level: level,
                columns: row[2].flatMap(JSONText.strings),
                excludedColumns: row[3].flatMap(JSONText.strings) ?? [],
                sinceLSN: row[4].flatMap(LSN.init) ?? 0
            )
            rule.hashedColumns = row[5].flatMap(JSONText.strings) ?? []
            rule.keyFile = row[6]
            rule.keyID = row[7]
            rule.maskedColumns = row[8].flatMap(JSONText.strings) ?? []
            return rule
        }
    }

    /// Each table's current level (its latest rule), by table name.
    static func latest(slot: String, _ sink: PostgresConnection) throws(PostgresError) -> [Status.TableCapture] {
        var latest: [String: CaptureRule] = [:]
        for rule in try rules(slot: slot, sink) { latest[rule.table] = rule }
        return latest.keys.sorted().map { table in
            let rule = latest[table]!
            return Status.TableCapture(
                table: table,
                level: rule.level.rawValue,
                sinceLsn: rule.sinceLSN.description,
                columns: rule.columns,
                excludedColumns: rule.excludedColumns,
                hashedColumns: rule.hashedColumns,
                maskedColumns: rule.maskedColumns,
                keyId: rule.keyID
            )
        }
    }
}
