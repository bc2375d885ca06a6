import PostgresReplication

/// `daybook report`: final per-table (and, with keys, per-key) window results from the sink.
public enum Report {
    public struct Request: Sendable {
        /// A day (`2026-11-24`, `yesterday`, `today`) in the report's time zone.
        public var date: String?
        /// Start of the range (inclusive), a date or timestamp in the report's time zone.
        public var from: String?
        /// End of the range (exclusive).
        public var to: String?
        /// Per-key rows instead of per-table rows.
        public var keys = false
        /// Per-key rows, only the N keys with the most operations per table and window.
        public var top: Int?
        /// Also show windows that are still open (their figures may still change).
        public var includeOpen = false
        /// Only this slot's results; nil for the union of all slots.
        public var slot: String?
        /// IANA time zone for dates and printed times; nil: the slot's configured zone, else UTC.
        public var timeZone: String?
        /// Per key of `values` tables: the events with their values and the changed columns.
        public var events = false
        /// Only this table (`schema.name`); nil for all.
        public var table: String?
        /// Exactly the window that starts at this timestamp (instead of a date or range).
        public var windowStart: String?
        /// Per-key rows: at most this many (paging); nil for all.
        public var limit: Int?
        /// Per-key rows: only those after this one (paging).
        public var after: KeyCursor?
        /// With `events`: only this key (a JSON object, compared as jsonb).
        public var key: String?
        /// One row per window (open, closing and closed) with its state and total changes,
        /// instead of per-table rows.
        public var windows = false

        public init() {}
    }

    /// Where a page of per-key rows ended: rows are ordered by window, table, first change
    /// and key, and the next page starts after this one.
    public struct KeyCursor: Sendable, Codable, Equatable {
        public var windowStart: String
        public var table: String
        public var firstChangeAt: String
        public var key: String

        public init(windowStart: String, table: String, firstChangeAt: String, key: String) {
            self.windowStart = windowStart
            self.table = table
            self.firstChangeAt = firstChangeAt
            self.key = key
        }
    }

    static let windowFormat = "YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM"
    private static let changeFormat = "YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM"

    /// A report's rows, and what a reader should know about the rows that are not there yet.
    public struct Output: Sendable {
        public var table: ReportTable
        /// Set when the asked-for range is not final yet: when it will close, and whether
        /// heartbeats are arriving.
        public var notice: String?
        /// The asked-for day as `YYYY-MM-DD` in the report's time zone (with `date`).
        public var day: String?
        /// With `events`: one JSON object per key (see ``EventReportFormat``).
        public var events: [String]?
    }

    public static func fetch(_ request: Request, from connection: PostgresConnection) throws(DaybookError) -> Output {
        try DaybookError.mapping(role: "sink") {
            let zone = try timeZone(for: request, connection)
            do {
                try connection.query("SELECT set_config('TimeZone', $1, false)", [zone])
            } catch let error as PostgresError where error.sqlState == "22023" {
                throw DaybookError(.invalidArgument, "unknown time zone \(zone): use an IANA name such as Europe/Berlin or UTC")
            }
            let range = try resolveRange(request, connection)
            let notices = [
                try ReportNotice.pruned(request, range: (range.from, range.to), connection),
                request.includeOpen ? nil : try ReportNotice.text(request, range: (range.from, range.to), connection),
            ].compactMap { $0 }
            let notice = notices.isEmpty ? nil : notices.joined(separator: "; ")
            if request.events {
                let lines = try connection.query(
                    EventReportSQL.query(windowFormat: windowFormat, changeFormat: changeFormat),
                    [request.slot, range.from, range.to, request.table, request.key]
                ).rows.compactMap { $0[0] }
                return Output(table: ReportTable(columns: [], rows: []), notice: notice, day: range.day, events: lines)
            }
            if request.windows {
                let result = try connection.query(windowsSQL, [request.slot, range.from, range.to])
                return Output(table: ReportTable(columns: windowColumns, rows: result.rows), notice: notice, day: range.day)
            }
            let perKey = request.keys || request.top != nil
            var parameters: [String?] = [request.slot, range.from, range.to, request.includeOpen ? "true" : "false", request.table]
            if perKey {
                parameters += [
                    request.after?.windowStart, request.after?.table, request.after?.firstChangeAt, request.after?.key,
                    request.limit.map(String.init),
                ]
            }
            let result = try connection.query(perKey ? keysSQL(request) : tablesSQL(request), parameters)
            return Output(table: ReportTable(columns: columns(request), rows: result.rows), notice: notice, day: range.day)
        }
    }

    private static func timeZone(for request: Request, _ connection: PostgresConnection) throws(PostgresError) -> String {
        if let zone = request.timeZone { return zone }
        let stored = try connection.query(
            "SELECT time_zone FROM daybook.checkpoint WHERE $1::text IS NULL OR slot_name = $1 ORDER BY slot_name LIMIT 1",
            [request.slot])
        return stored.scalar ?? "UTC"
    }

    /// Turns --date or --from/--to into timestamps, letting PostgreSQL parse them in the
    /// session's time zone (so `yesterday` and DST days mean what they say).
    private static func resolveRange(_ request: Request, _ connection: PostgresConnection) throws(DaybookError) -> (
        from: String, to: String, day: String?
    ) {
        do {
            if let start = request.windowStart {
                let row = try connection.query(
                    "SELECT $1::timestamptz::text, ($1::timestamptz + interval '1 microsecond')::text", [start]
                ).rows.first
                return (row?[0] ?? "-infinity", row?[1] ?? "-infinity", nil)
            }
            if let date = request.date {
                let row = try connection.query(
                    "SELECT ($1::date)::timestamptz::text, ($1::date + 1)::timestamptz::text, ($1::date)::text", [date]
                ).rows.first
                return (row?[0] ?? "-infinity", row?[1] ?? "infinity", row?[2])
            }
            let row = try connection.query(
                "SELECT coalesce($1::timestamptz, '-infinity')::text, coalesce($2::timestamptz, 'infinity')::text",
                [request.from, request.to]
            ).rows.first
            return (row?[0] ?? "-infinity", row?[1] ?? "infinity", nil)
        } catch {
            let given = [request.windowStart, request.date, request.from, request.to].compactMap { $0 }.joined(
                separator: ", ")
            throw DaybookError(
                .invalidArgument, "cannot read '\(given)' as a date: use YYYY-MM-DD, yesterday, today, or a timestamp")
        }
    }

    private static func columns(_ request: Request) -> [ReportTable.Column] {
        var columns: [ReportTable.Column] = [
            .init(name: "window_start", kind: .text), .init(name: "window_end", kind: .text),
            .init(name: "table", kind: .text),
        ]
        if request.keys || request.top != nil {
            columns += [
                .init(name: "key", kind: .json), .init(name: "ops", kind: .text),
                .init(name: "first_change_at", kind: .text), .init(name: "last_change_at", kind: .text),
                .init(name: "net", kind: .text),
            ]
        } else {
            columns += ["inserts", "updates", "deletes", "truncates", "transactions", "keys"].map {
                .init(name: $0, kind: .number)
            }
            columns += [
                .init(name: "first_change_at", kind: .text), .init(name: "last_change_at", kind: .text),
                .init(name: "late", kind: .number), .init(name: "levels", kind: .text),
            ]
        }
        if request.includeOpen { columns.append(.init(name: "status", kind: .text)) }
        return columns
    }

    private static let windowColumns: [ReportTable.Column] =
        [
            .init(name: "window_start", kind: .text), .init(name: "window_end", kind: .text),
            .init(name: "status", kind: .text), .init(name: "closed_by", kind: .text),
            .init(name: "closes_at", kind: .text), .init(name: "closed_at", kind: .text),
        ] + ["changes", "transactions", "tables"].map { .init(name: $0, kind: .number) }
        + [.init(name: "pruned", kind: .text)]

    /// Every window of the range, whatever its state: `closes_at` is the stream time that
    /// closes it (its end plus grace), `closed_by` what moved stream time there.
    private static let windowsSQL = """
        SELECT to_char(w.window_start, '\(windowFormat)'), to_char(w.window_end, '\(windowFormat)'), w.status, w.closed_by,
               to_char(w.closes_at, '\(windowFormat)'), to_char(w.closed_at, '\(changeFormat)'),
               coalesce(sum(t.inserts + t.updates + t.deletes + t.truncates), 0), coalesce(sum(t.transactions), 0),
               count(t.table_name), w.pruned
          FROM daybook.windows w
          LEFT JOIN daybook.table_windows t USING (slot_name, window_start)
         WHERE ($1::text IS NULL OR w.slot_name = $1)
           AND w.window_start >= $2::timestamptz AND w.window_start < $3::timestamptz
         GROUP BY w.slot_name, w.window_start, w.window_end, w.status, w.closed_by, w.closes_at, w.closed_at, w.pruned
         ORDER BY w.window_start, w.slot_name
        """

    private static func tablesSQL(_ request: Request) -> String {
        """
        SELECT to_char(t.window_start, '\(windowFormat)'), to_char(t.window_end, '\(windowFormat)'), t.table_name,
               sum(t.inserts), sum(t.updates), sum(t.deletes), sum(t.truncates), sum(t.transactions),
               sum(coalesce(t.keys, (SELECT count(*) FROM daybook.open_key_windows k
                                      WHERE k.slot_name = t.slot_name AND k.window_start = t.window_start
                                        AND k.table_name = t.table_name))),
               to_char(min(t.first_change_at), '\(changeFormat)'), to_char(max(t.last_change_at), '\(changeFormat)'),
               sum((SELECT count(*) FROM daybook.late_changes l JOIN daybook.checkpoint cp USING (slot_name)
                     WHERE l.slot_name = t.slot_name AND l.window_start = t.window_start
                       AND l.table_name = t.table_name AND l.commit_lsn < cp.lsn)),
               daybook.level_names(bit_or(t.levels))\(request.includeOpen ? ", min(w.status)" : "")
          FROM daybook.table_windows t
          JOIN daybook.windows w USING (slot_name, window_start)
         WHERE ($1::text IS NULL OR t.slot_name = $1)
           AND t.window_start >= $2::timestamptz AND t.window_start < $3::timestamptz
           AND ($4::boolean OR w.status = 'closed') AND ($5::text IS NULL OR t.table_name = $5)
         GROUP BY t.window_start, t.window_end, t.table_name
         ORDER BY t.window_start, t.table_name
        """
    }

    /// Per-key rows. `$5` a table, `$6`–`$9` the cursor (window start, table, first change,
    /// key: rows after it), `$10` the page size; NULL for none. The rank is computed only for
    /// `top`: over a day of a million keys it costs a sort of all of them.
    private static func keysSQL(_ request: Request) -> String {
        let rank =
            request.top == nil
            ? "0 AS rank"
            : "row_number() OVER (PARTITION BY k.slot_name, k.window_start, k.table_name ORDER BY daybook.op_count(k.ops) DESC, k.key::text) AS rank"
        let topFilter = request.top.map { "AND rank <= \(max($0, 0))" } ?? ""
        return """
            SELECT ws, we, table_name, key, ops, first_change_at, last_change_at, net\(request.includeOpen ? ", status" : "")
              FROM (
                SELECT to_char(k.window_start, '\(windowFormat)') AS ws, to_char(k.window_end, '\(windowFormat)') AS we,
                       k.table_name, k.key::text AS key, k.ops,
                       to_char(k.first_change_at, '\(changeFormat)') AS first_change_at,
                       to_char(k.last_change_at, '\(changeFormat)') AS last_change_at,
                       daybook.net_effect(k.ops) AS net, w.status, k.window_start, k.first_change_at AS first_at, \(rank)
                  FROM (SELECT slot_name, window_start, window_end, table_name, key, ops, first_change_at, last_change_at
                          FROM daybook.key_windows
                        UNION ALL
                        SELECT slot_name, window_start, window_end, table_name, key, ops, first_change_at, last_change_at
                          FROM daybook.open_key_windows WHERE $4::boolean) k
                  JOIN daybook.windows w USING (slot_name, window_start)
                 WHERE ($1::text IS NULL OR k.slot_name = $1)
                   AND k.window_start >= $2::timestamptz AND k.window_start < $3::timestamptz
                   AND ($4::boolean OR w.status = 'closed') AND ($5::text IS NULL OR k.table_name = $5)
              ) ranked
             WHERE ($6::timestamptz IS NULL
                    OR (window_start, table_name, first_at, key) > ($6::timestamptz, $7::text, $8::timestamptz, $9::text))
                   \(topFilter)
             ORDER BY window_start, table_name, \(request.top != nil ? "rank" : "first_at, key")
             LIMIT $10::bigint
            """
    }

}
