import DaybookCore
import Foundation
import PostgresReplication
import WAL
import Windowing

/// `daybook capture` and `setup --capture`: sets a table's capture level.
///
/// The new rule is announced in the replication stream (a non-transactional `daybook.capture`
/// logical message in the source) and recorded in the sink at that message's LSN, so that it
/// takes effect at the same transaction in every run: live, after a restart and in a replay.
/// Everything is checked before anything is written: an unknown table or column, a level
/// that does not exist, a key column excluded, column choices at a level without values.
public enum CaptureSetting {
    public struct Request: Sendable {
        public var slot: String
        /// `schema.table` or `table` (found on the source's search path).
        public var tables: [String]
        public var level: CaptureLevel
        /// At `values`: only these columns (the key is always captured).
        public var columns: [String]?
        /// At `values`: never these.
        public var excludedColumns: [String] = []
        /// At `values`: these as keyed hashes (``ValueKey``) under the key in ``keyFile``.
        public var hashedColumns: [String] = []
        /// At `values`: these as a marker (``MaskedValue``), their changes told by the key.
        public var maskedColumns: [String] = []
        public var keyFile: String?
        /// The publication whose column lists follow the levels.
        public var publication = "daybook"

        public init(slot: String, tables: [String], level: CaptureLevel) {
            self.slot = slot
            self.tables = tables
            self.level = level
        }
    }

    /// Sets the level of each table; returns one line per table for the operator.
    public static func apply(
        _ request: Request,
        source: PostgresConnection,
        sink: PostgresConnection
    ) throws(DaybookError) -> [String] {
        try announce(prepare(request, source: source, sink: sink), source: source, sink: sink)
    }

    /// Checked rules, ready to announce.
    public struct Prepared: Sendable {
        let rules: [CaptureRule]
        let publication: String
    }

    /// Checks everything that can be checked before anything is written (`setup` calls this
    /// before it creates the publication and the slot): the sink's schema, the tables, the
    /// columns, the level's options. All or nothing.
    public static func prepare(
        _ request: Request,
        source: PostgresConnection,
        sink: PostgresConnection
    ) throws(DaybookError) -> Prepared {
        if request.level != .values && (request.columns != nil || !request.excludedColumns.isEmpty) {
            throw DaybookError(
                .invalidArgument,
                "--columns and --exclude-columns choose the columns of captured values: use them with the values level"
            )
        }
        if request.columns != nil && !request.excludedColumns.isEmpty {
            throw DaybookError(.invalidArgument, "give --columns or --exclude-columns, not both")
        }
        var keyID: String?
        if !request.hashedColumns.isEmpty || !request.maskedColumns.isEmpty {
            guard request.level == .values || (request.level == .keys && request.maskedColumns.isEmpty) else {
                throw DaybookError(
                    .invalidArgument,
                    request.level == .keys
                        ? "--mask chooses how captured values are kept: use it with the values level"
                        : "--hash and --mask choose how captured keys and values are kept: use them with keys or values"
                )
            }
            if let both = request.hashedColumns.first(where: request.maskedColumns.contains) {
                throw DaybookError(.invalidArgument, "\(both) is both hashed and masked: choose one")
            }
            guard let keyFile = request.keyFile else {
                throw DaybookError(
                    .invalidArgument,
                    "--hash and --mask need --key-file FILE, the key of the hashes and of the masks' change "
                        + "tags (openssl rand -hex 32 > FILE)"
                )
            }
            keyID = try SecretFile.valueKey(keyFile).id
        } else if request.keyFile != nil {
            throw DaybookError(
                .invalidArgument,
                "--key-file is the key of --hash and --mask: give the columns to hash or mask"
            )
        }
        try Migrator.requireCurrent(sink)
        return try DaybookError.mapping(role: .source) { try checkedRules(request, keyID: keyID, source) }
    }

    private static func checkedRules(
        _ request: Request,
        keyID: String?,
        _ source: PostgresConnection
    ) throws
        -> Prepared
    {
        var rules: [CaptureRule] = []
        for table in request.tables {
            let name = try resolve(table, source)
            let columns = try columnsWithKeyFlag(of: name, source)
            let known = Set(columns.map(\.name))
            for column in (request.columns ?? []) + request.excludedColumns + request.hashedColumns
                + request.maskedColumns
            where !known.contains(column) {
                throw DaybookError(
                    .invalidArgument,
                    "\(name) has no column \(column): its columns are \(columns.map(\.name).joined(separator: ", "))"
                )
            }
            if let key = columns.first(where: { $0.isKey && request.excludedColumns.contains($0.name) }) {
                throw DaybookError(
                    .invalidArgument,
                    "\(key.name) is part of \(name)'s key and cannot be excluded: every event is filed under its key"
                )
            }
            for column in request.hashedColumns + request.maskedColumns {
                if request.excludedColumns.contains(column) {
                    throw DaybookError(
                        .invalidArgument,
                        "\(column) is excluded: an excluded column is not kept at all, so there is nothing to "
                            + "hash or mask"
                    )
                }
                if let only = request.columns, !only.contains(column) {
                    throw DaybookError(
                        .invalidArgument,
                        "\(column) is not among --columns: add it there to keep it hashed or masked"
                    )
                }
                let isKey = columns.contains(where: { $0.isKey && $0.name == column })
                if isKey && request.maskedColumns.contains(column) {
                    throw DaybookError(
                        .invalidArgument,
                        "\(column) is part of \(name)'s key, which every event is filed under: hash it (--hash), "
                            + "the key is then filed under its hash"
                    )
                }
                if !isKey && request.level == .keys {
                    throw DaybookError(
                        .invalidArgument,
                        "\(column) is not part of \(name)'s key: at keys only key columns are kept, so only they can "
                            + "be hashed"
                    )
                }
            }
            var rule = CaptureRule(
                slot: request.slot,
                table: name,
                level: request.level,
                columns: request.columns,
                excludedColumns: request.excludedColumns
            )
            rule.hashedColumns = request.hashedColumns
            rule.maskedColumns = request.maskedColumns
            rule.keyFile =
                keyID == nil ? nil : request.keyFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            rule.keyID = keyID
            rules.append(rule)
        }
        return Prepared(rules: rules, publication: request.publication)
    }

    /// Announces prepared rules in the stream and records them in the sink. A table already
    /// at the asked-for level and columns is left as it is (so `setup` can be repeated).
    public static func announce(
        _ prepared: Prepared,
        source: PostgresConnection,
        sink: PostgresConnection
    ) throws(DaybookError) -> [String] {
        try DaybookError.mapping(role: .source) { try announceRules(prepared, source, sink) }
    }

    private static func announceRules(
        _ prepared: Prepared,
        _ source: PostgresConnection,
        _ sink: PostgresConnection
    ) throws -> [String] {
        guard let slot = prepared.rules.first?.slot else { return [] }
        let slotExists =
            try source.query(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
                [slot]
            ).scalar == "1"
        guard slotExists else {
            throw DaybookError(
                .slotMissing,
                "replication slot \(slot) does not exist in this database: run `daybook setup --slot \(slot)` first"
            )
        }
        var notes: [String] = []
        for var rule in prepared.rules {
            if let current = try currentRule(of: rule.table, slot: rule.slot, sink),
                current.level == rule.level, current.columns == rule.columns,
                current.excludedColumns == rule.excludedColumns, current.hashedColumns == rule.hashedColumns,
                current.maskedColumns == rule.maskedColumns,
                current.keyID == rule.keyID
            {
                notes.append("\(rule.table) is already captured at \(rule.level.rawValue); left as it is")
                continue
            }
            // Columns the new level needs are published before the rule takes effect, and
            // columns it no longer needs are withdrawn only after: no change under the new
            // level ever lacks a column it should have.
            let plan = try PublicationColumns.plan(for: rule, publication: prepared.publication, source)
            var widened = plan.published
            if let columns = plan.columns {
                widened = plan.published + columns.filter { !plan.published.contains($0) }
                if widened != plan.published {
                    try PublicationColumns.publish(widened, of: rule.table, in: prepared.publication, source)
                }
            }
            let lsn = try source.query(
                // Not transactional: the rule takes its place in the WAL at once, so that every
                // transaction committed after it is captured under it, live and in a replay alike
                // (a transactional message would be decoded only with its transaction's commit,
                // after transactions that committed between the two).
                "SELECT pg_logical_emit_message(false, $1, $2)::text",
                [CaptureRule.messagePrefix, rule.messageContent]
            ).scalar.flatMap(LSN.init)
            rule.sinceLSN = lsn ?? 0
            if let columns = plan.columns, Set(columns) != Set(widened) {
                try PublicationColumns.publish(columns, of: rule.table, in: prepared.publication, source)
            }
            do {
                try sink.query(SinkSQL.insertCaptureRules, [rule.slot, CheckpointPayload.captureRules([rule])])
            } catch {
                throw DaybookError.from(error, role: .sink)
            }
            notes.append(
                "\(rule.table): captured at \(rule.level.rawValue) from LSN \(rule.sinceLSN) on"
                    + describeColumns(rule)
            )
            if let columns = plan.columns {
                notes.append(
                    "\(rule.table): publication \(prepared.publication) sends only \(columns.joined(separator: ", "))"
                )
            } else if let reason = plan.reason {
                notes.append(
                    plan.published.isEmpty ? "warning: \(reason)" : "\(rule.table): published whole, since \(reason)"
                )
            }
        }
        return notes
    }

    private static func describeColumns(_ rule: CaptureRule) -> String {
        var parts: [String] = []
        if let columns = rule.columns { parts.append("columns: key and \(columns.joined(separator: ", "))") }
        if !rule.excludedColumns.isEmpty { parts.append("never: \(rule.excludedColumns.joined(separator: ", "))") }
        if !rule.maskedColumns.isEmpty { parts.append("masked: \(rule.maskedColumns.joined(separator: ", "))") }
        if !rule.hashedColumns.isEmpty { parts.append("hashed: \(rule.hashedColumns.joined(separator: ", "))") }
        if let key = rule.keyID { parts.append("key \(key)") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }

    /// The table's `schema.name` as the stream names it, or an error naming the problem.
    private static func resolve(_ table: String, _ source: PostgresConnection) throws -> String {
        let found: String?
        do {
            found = try source.query(
                """
                SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')
                """,
                [table]
            ).scalar
        } catch {
            // A name that does not even parse (42602 and the like) is as unknown as a missing one.
            guard error.sqlState?.hasPrefix("42") == true else { throw error }
            found = nil
        }
        guard let found else {
            throw DaybookError(.invalidArgument, "no table \(table) in the source database: name it as schema.table")
        }
        return found
    }

    /// The table's columns and whether each is part of its key (the replica identity: the
    /// primary key, the identity index, or every column under FULL without a primary key).
    static func columnsWithKeyFlag(
        of table: String,
        _ source: PostgresConnection
    ) throws -> [(name: String, isKey: Bool)] {
        try source.query(
            """
            SELECT a.attname,
                   CASE c.relreplident
                     WHEN 'n' THEN false
                     WHEN 'i' THEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident
                                                                     AND a.attnum = ANY (i.indkey))
                     ELSE EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary
                                                           AND a.attnum = ANY (i.indkey))
                          OR (c.relreplident = 'f'
                              AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
                   END
              FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
             WHERE c.oid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum
            """,
            [source.quoteQualifiedName(table)]
        ).rows.map { ($0[0] ?? "", $0[1] == "t") }
    }

    /// The newest rule of a table in the sink, if any.
    private static func currentRule(of table: String, slot: String, _ sink: PostgresConnection) throws -> CaptureRule? {
        do {
            return try CaptureLevels.rules(slot: slot, sink).last { $0.table == table }
        } catch {
            throw DaybookError.from(error, role: .sink)
        }
    }
}
