import DaybookCore
import PostgresReplication

/// `daybook forget`: erases every stored value of one key of one table, wherever the sink
/// keeps values (migration 019), keeps the counts and the key's operations, and logs the
/// erasure without a value. Works while `run` runs and while the key's day is open: the close
/// folds what is stored, erased; changes committed before the erasure that reach the sink after
/// it are erased as they arrive (``Sink/erasePending()``).
public enum Erasure {
    /// Whose values to erase.
    public enum Target: Sendable {
        /// One key of one table: a JSON object of its columns (`{"id": "42"}`; numbers are
        /// taken as their text), the table as the sink names it (`schema.table`).
        case key(table: String, key: String)
        /// A data subject spread over tables: every key whose latest image, or an event of a day
        /// still open, holds `value` in `column` (its hash or mask tag where the column is hashed
        /// or masked), in `tables` or in every table captured at values.
        case value(column: String, value: String, tables: [String]?)
    }

    public struct Request: Sendable {
        public var slot: String
        public var target: Target
        /// Count what would be erased, erase nothing.
        public var dryRun = false

        public init(slot: String, target: Target) {
            self.slot = slot
            self.target = target
        }
    }

    /// What was (or would be) erased of one key.
    public struct Outcome: Sendable, Equatable {
        public var table: String
        /// The key as the sink files it.
        public var key: String
        public var events: Int
        public var keyWindows: Int
        public var images: Int
    }

    /// Erases (or counts, with ``Request/dryRun``) in one transaction; the keys erased, none
    /// when nothing of the target is stored (then nothing is written).
    public static func forget(_ request: Request, on sink: PostgresConnection) throws(DaybookError) -> [Outcome] {
        if case .key(_, let key) = request.target {
            guard let object = DaybookJSON.decode(JSONValue.self, from: key)?.object, !object.isEmpty,
                !ReportInput.hasUnreadableEscape(key)
            else {
                throw DaybookError(
                    .invalidArgument,
                    "the key is not a JSON object of the key's columns, such as {\"id\": \"42\"}"
                )
            }
        }
        let keys = try matchingKeys(request, sink)
        guard !keys.isEmpty else { return [] }
        return try DaybookError.mapping(role: .sink) {
            try sink.simpleQuery("BEGIN")
            do {
                // One at a time with a close of the slot's windows (which could write back values
                // it read before this commits) and with another forget.
                try sink.query(SinkSQL.forgetLock, [request.slot])
                let outcomes = try keys.map { table, key in
                    try erase(slot: request.slot, table: table, key: key, dryRun: request.dryRun, sink)
                }.filter { $0.events + $0.keyWindows + $0.images > 0 }
                try sink.simpleQuery(request.dryRun || outcomes.isEmpty ? "ROLLBACK" : "COMMIT")
                return outcomes
            } catch {
                _ = try? sink.simpleQuery("ROLLBACK")
                throw error
            }
        }
    }

    /// The (table, key text) pairs the target names.
    private static func matchingKeys(
        _ request: Request,
        _ sink: PostgresConnection
    ) throws(DaybookError)
        -> [(String, String)]
    {
        switch request.target {
        case .key(let table, let key):
            // Every form the key may be filed under: plain before a hashing rule, hashed under
            // each key a rule used since.
            var skipped: [String] = []
            let forms = try HashedKeys.forms(key, table: table, slot: request.slot, sink, skipped: &skipped)
            if !skipped.isEmpty && forms.count == 1 {
                throw DaybookError(.configuration, skipped.joined(separator: "; "))
            }
            return try DaybookError.mapping(role: .sink) {
                var keys: [(String, String)] = []
                for form in forms {
                    let object = DaybookJSON.decode(JSONValue.self, from: form)?.object ?? [:]
                    if let text = try canonicalKey(object, slot: request.slot, table: table, sink),
                        !keys.contains(where: { $0.1 == text })
                    {
                        keys.append((table, text))
                    }
                }
                return keys
            }
        case .value(let column, let value, let tables):
            let rules = try DaybookError.mapping(role: .sink) { try CaptureLevels.rules(slot: request.slot, sink) }
            let chosen = tables ?? Array(Set(rules.filter { $0.level == .values }.map(\.table))).sorted()
            let openWindows = try DaybookError.mapping(role: .sink) {
                try sink.query(SinkSQL.openWindowStarts, [request.slot]).rows.compactMap { $0[0] }
            }
            var keys: [(String, String)] = []
            var seen: Set<[String]> = []
            for table in chosen {
                let needles = try needles(for: value, column: column, rules: rules.filter { $0.table == table })
                let parameters = [
                    request.slot, table, column, "{" + needles.map(arrayElement).joined(separator: ",") + "}",
                ]
                let found = try DaybookError.mapping(role: .sink) {
                    var found = try sink.query(SinkSQL.keysHoldingValue, parameters).rows.compactMap { $0[0] }
                    for start in openWindows {
                        found += try sink.query(SinkSQL.keysHoldingValueInWindow, parameters + [start]).rows
                            .compactMap { $0[0] }
                    }
                    return found
                }
                for key in found where seen.insert([table, key]).inserted { keys.append((table, key)) }
            }
            return keys
        }
    }

    /// What the sink may hold for `value` in `column` of a table: the value, and its hash or
    /// mask tag under the key of each rule that hashed or masked the column.
    private static func needles(
        for value: String,
        column: String,
        rules: [CaptureRule]
    ) throws(DaybookError)
        -> [String]
    {
        var needles = [value]
        for rule in rules where rule.hashedColumns.contains(column) || rule.maskedColumns.contains(column) {
            guard let file = rule.keyFile else { continue }
            let key = try SecretFile.valueKey(file, expectedID: rule.keyID)
            var text = value
            text.withUTF8 { bytes in
                let raw = UnsafeRawBufferPointer(bytes)
                if rule.maskedColumns.contains(column) {
                    let tag = key.maskTag(raw)
                    needles.append(tag)
                    // As stored before schema 20: the same HMAC without the key's id.
                    needles.append(MaskedValue.tagPrefix + tag.suffix(32))
                } else {
                    needles.append(key.hash(raw))
                }
            }
        }
        return needles
    }

    /// An element of a PostgreSQL text array literal.
    private static func arrayElement(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static func erase(
        slot: String,
        table: String,
        key: String,
        dryRun: Bool,
        _ sink: PostgresConnection
    ) throws -> Outcome {
        let events: Int
        let keyWindows: Int
        let images: Int
        if dryRun {
            let scope = "WHERE slot_name = $1 AND table_name = $2 AND key = $3"
            events = try count("SELECT count(*) FROM daybook.value_events \(scope)", slot, table, key, sink)
            keyWindows = try count("SELECT count(*) FROM daybook.key_values \(scope)::jsonb", slot, table, key, sink)
            images = try count("SELECT count(*) FROM daybook.key_images \(scope)", slot, table, key, sink)
        } else {
            events = try sink.query(SinkSQL.forgetEvents, [slot, table, key]).affectedRows
            keyWindows = try sink.query(SinkSQL.forgetChanges, [slot, table, key]).affectedRows
            images = try sink.query(
                "DELETE FROM daybook.key_images WHERE slot_name = $1 AND table_name = $2 AND key = $3",
                [slot, table, key]
            ).affectedRows
            if events + keyWindows + images > 0 {
                try sink.query(
                    """
                    INSERT INTO daybook.erasures (slot_name, table_name, key, events, key_windows, images, erased_at)
                    VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint, clock_timestamp())
                    """,
                    [slot, table, key, String(events), String(keyWindows), String(images)]
                )
            }
        }
        return Outcome(table: table, key: key, events: events, keyWindows: keyWindows, images: images)
    }

    private static func count(
        _ sql: String,
        _ slot: String,
        _ table: String,
        _ key: String,
        _ sink: PostgresConnection
    ) throws -> Int {
        Int(try sink.query(sql, [slot, table, key]).scalar ?? "0") ?? 0
    }

    /// Daybook's text of the key (as `value_events.key` files it: the key's columns in the
    /// table's order, values as text), found from a key of the table the sink holds: an exact
    /// match then finds the key's rows through the indexes. Nil when the sink holds no key of
    /// the table, or the columns are not the key's.
    private static func canonicalKey(
        _ object: [String: JSONValue],
        slot: String,
        table: String,
        _ sink: PostgresConnection
    ) throws -> String? {
        guard
            let sample = try sink.query(
                """
                SELECT key FROM (SELECT key FROM daybook.key_images WHERE slot_name = $1 AND table_name = $2 LIMIT 1) i
                UNION ALL
                SELECT key FROM (SELECT key FROM daybook.value_events WHERE slot_name = $1 AND table_name = $2 LIMIT 1) e
                LIMIT 1
                """,
                [slot, table]
            ).scalar
        else { return nil }
        let columns = object.keys.sorted { left, right in
            (sample.range(of: JSONText.string(left) + ":")?.lowerBound ?? sample.endIndex)
                < (sample.range(of: JSONText.string(right) + ":")?.lowerBound ?? sample.endIndex)
        }
        guard columns.allSatisfy({ sample.contains(JSONText.string($0) + ":") }),
            DaybookJSON.decode([String: JSONValue].self, from: sample)?.count == columns.count
        else { return nil }
        var text = "{"
        for (index, column) in columns.enumerated() {
            if index > 0 { text += "," }
            let value: String
            switch object[column]! {
            case .string(let string): value = JSONText.string(string)
            case .integer(let integer): value = JSONText.string(String(integer))
            case .null: value = "null"
            default: return nil
            }
            text += JSONText.string(column) + ":" + value
        }
        return text + "}"
    }
}
