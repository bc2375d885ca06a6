import DaybookCore
import PostgresReplication

/// `daybook forget`: erases every stored value of one key of one table, wherever the sink
/// keeps values (migration 019), keeps the counts and the key's operations, and logs the
/// erasure without a value. Works while `run` runs and while the key's day is open: the close
/// folds what is stored, erased; changes committed before the erasure that reach the sink after
/// it are erased as they arrive (``Sink/erasePending()``).
public enum Erasure {
    public struct Request: Sendable {
        public var slot: String
        /// `schema.table` as the sink names it.
        public var table: String
        /// A JSON object of the key's columns (`{"id": "42"}`; numbers are taken as their text).
        public var key: String
        /// Count what would be erased, erase nothing.
        public var dryRun = false

        public init(slot: String, table: String, key: String) {
            self.slot = slot
            self.table = table
            self.key = key
        }
    }

    /// What was (or would be) erased.
    public struct Outcome: Sendable, Equatable {
        /// The key as the sink files it.
        public var key: String
        public var events: Int
        public var keyWindows: Int
        public var images: Int
        public var nothingStored: Bool { events == 0 && keyWindows == 0 && images == 0 }
    }

    public static func forget(_ request: Request, on sink: PostgresConnection) throws(DaybookError) -> Outcome {
        guard let object = DaybookJSON.decode(JSONValue.self, from: request.key)?.object, !object.isEmpty,
            !ReportInput.hasUnreadableEscape(request.key)
        else {
            throw DaybookError(
                .invalidArgument,
                "the key \(request.key) is not a JSON object of the key's columns, such as {\"id\": \"42\"}"
            )
        }
        return try DaybookError.mapping(role: .sink) {
            try sink.simpleQuery("BEGIN")
            do {
                let outcome = try erase(request, object, sink)
                try sink.simpleQuery(request.dryRun || outcome.nothingStored ? "ROLLBACK" : "COMMIT")
                return outcome
            } catch {
                _ = try? sink.simpleQuery("ROLLBACK")
                throw error
            }
        }
    }

    private static func erase(
        _ request: Request,
        _ object: [String: JSONValue],
        _ sink: PostgresConnection
    ) throws -> Outcome {
        let (slot, table) = (request.slot, request.table)
        guard let key = try canonicalKey(object, slot: slot, table: table, sink) else {
            return Outcome(key: request.key, events: 0, keyWindows: 0, images: 0)
        }
        // One at a time with a close of the slot's windows (which could write back values it
        // read before this commits) and with another forget.
        try sink.query(SinkSQL.forgetLock, [slot])
        let events: Int
        let keyWindows: Int
        let images: Int
        if request.dryRun {
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
                    INSERT INTO daybook.erasures (slot_name, table_name, key, events, key_windows, images)
                    VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint)
                    """,
                    [slot, table, key, String(events), String(keyWindows), String(images)]
                )
            }
        }
        return Outcome(key: key, events: events, keyWindows: keyWindows, images: images)
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
