import DaybookCore
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
        /// Per-key rows: at most this many (paging; ``Output/nextCursor`` says where the next
        /// page starts); nil for all. Not with `top`.
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
    /// and key (as stored), and the next page starts after this one. Opaque to callers.
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

    /// Whether `key` is text that names no key at all (not a JSON object), as opposed to an
    /// object PostgreSQL cannot read (`\u0000`, a lone surrogate escape), which
    /// ``fetch(_:from:)`` refuses as a mistake. The API answers the first 404, as documented.
    public static func namesNoKey(_ key: String) -> Bool {
        !ReportInput.hasUnreadableEscape(key) && !ReportInput.isKeyObject(key)
    }

    /// SQL for how many operations a per-key row (`alias`) holds: its letters, or the sum of a
    /// compacted run (`I U×999998 D`). The report's top keys and the digest's rank by it.
    static func operationCount(_ alias: String) -> String {
        "CASE WHEN strpos(\(alias).ops, '×') = 0 THEN length(\(alias).ops) ELSE daybook.op_count(\(alias).ops) END"
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
        /// With `limit`, when more rows follow: where the next page starts.
        public var nextCursor: KeyCursor?
        /// Gaps the operator accepted whose time overlaps the range: its windows may miss
        /// changes (``notice`` says so too).
        public var gaps: [Gap] = []
    }

    public static func fetch(_ request: Request, from connection: PostgresConnection) throws(DaybookError) -> Output {
        try fetch(request, from: connection, observe: nil)
    }

    /// ``fetch(_:from:)``, with every statement that reads results shown to `observe` first.
    static func fetch(
        _ request: Request,
        from connection: PostgresConnection,
        observe: ReportStatementObserver?
    ) throws(DaybookError) -> Output {
        try ReportInput.check(request)
        return try DaybookError.mapping(role: .sink) {
            func run(_ sql: String, _ parameters: [String?], _ reads: ReportStatement.Reads) throws -> QueryResult {
                try ReportStatement(sql: sql, parameters: parameters, reads: reads).run(
                    on: connection,
                    observe: observe
                )
            }
            let zone = try timeZone(for: request, connection)
            do {
                try connection.query("SELECT set_config('TimeZone', $1, false)", [zone])
            } catch let error as PostgresError where error.sqlState == "22023" {
                throw DaybookError(
                    .invalidArgument,
                    "unknown time zone \(zone): use an IANA name such as Europe/Berlin or UTC"
                )
            }
            let range = try resolveRange(request, connection)
            let gaps = try Gaps.touching(slot: request.slot, from: range.from, to: range.to, connection)
            let notices =
                gaps.map(\.sentence)
                + [
                    try ReportNotice.pruned(request, range: (range.from, range.to), connection),
                    try ReportNotice.protectedValues(request, range: (range.from, range.to), connection),
                    request.includeOpen
                        ? nil : try ReportNotice.text(request, range: (range.from, range.to), connection),
                ].compactMap { $0 }
            let notice = notices.isEmpty ? nil : notices.joined(separator: "; ")
            var output = try fetchRows(request, range: range, notice: notice, run: run, connection)
            output.gaps = gaps
            return output
        }
    }

    /// The rows of ``fetch(_:from:observe:)``, once the range and its notices are known.
    private static func fetchRows(
        _ request: Request,
        range: (from: String, to: String, day: String?),
        notice: String?,
        run: (String, [String?], ReportStatement.Reads) throws -> QueryResult,
        _ connection: PostgresConnection
    ) throws -> Output {
        if request.events {
            let oneKey = request.key != nil && request.table != nil
            var key = request.key
            if let given = key, let table = request.table, let slot = request.slot {
                key = try HashedKeys.stored(given, table: table, slot: slot, connection)
            }
            let lines = try run(
                EventReportSQL.query(windowFormat: windowFormat, changeFormat: changeFormat, oneKey: oneKey),
                [request.slot, range.from, range.to, request.table, key],
                oneKey ? .indexBounded : .wholeRange
            ).rows.compactMap { $0[0] }
            return Output(table: ReportTable(columns: [], rows: []), notice: notice, day: range.day, events: lines)
        }
        if request.windows {
            let result = try run(windowsSQL, [request.slot, range.from, range.to], .wholeRange)
            return Output(table: ReportTable(columns: windowColumns, rows: result.rows), notice: notice, day: range.day)
        }
        let perKey = request.keys || request.top != nil
        var parameters: [String?] = [
            request.slot, range.from, range.to, request.includeOpen ? "true" : "false", request.table,
        ]
        // Open windows' rows are merged as they are read; only look for them where there are some.
        // The open windows of the range, as a PostgreSQL array (NULL: none): their keys are
        // counted or merged as they are read, from their partitions alone.
        let openStarts = try connection.query(
            """
            SELECT array_agg(window_start)::text FROM daybook.windows WHERE ($1::text IS NULL OR slot_name = $1)
               AND window_start >= $2::timestamptz AND window_start < $3::timestamptz AND status <> 'closed'
            """,
            [request.slot, range.from, range.to]
        ).scalar
        let withOpen = request.includeOpen && openStarts != nil
        guard perKey else {
            let result = try run(
                tablesSQL(request, withOpen: withOpen),
                parameters + (withOpen ? [openStarts] : []),
                .wholeRange
            )
            return Output(
                table: ReportTable(columns: columns(request), rows: result.rows),
                notice: notice,
                day: range.day
            )
        }
        // Pages: one row more than asked for tells that there is a next page.
        let limit = request.top == nil ? request.limit : nil
        parameters += [
            request.after?.windowStart, request.after?.table, request.after?.firstChangeAt, request.after?.key,
            limit.map { String($0 + 1) },
        ]
        // A page, or the top keys per table through the index: bounded reads; all keys: the range.
        let reads: ReportStatement.Reads = limit != nil || request.top != nil ? .indexBounded : .wholeRange
        var rows = try run(keysSQL(request, withOpen: withOpen), parameters, reads).rows
        var next: KeyCursor?
        if let limit, rows.count > limit {
            rows.removeLast(rows.count - limit)
            let last = rows[limit - 1].suffix(4).map { $0 ?? "" }
            next = KeyCursor(windowStart: last[0], table: last[1], firstChangeAt: last[2], key: last[3])
        }
        let columns = columns(request)
        var output = Output(
            table: ReportTable(columns: columns, rows: rows.map { Array($0.prefix(columns.count)) }),
            notice: notice,
            day: range.day
        )
        output.nextCursor = next
        return output
    }

    private static func timeZone(for request: Request, _ connection: PostgresConnection) throws(PostgresError) -> String
    {
        if let zone = request.timeZone { return zone }
        let stored = try connection.query(
            "SELECT time_zone FROM daybook.checkpoint WHERE $1::text IS NULL OR slot_name = $1 ORDER BY slot_name LIMIT 1",
            [request.slot]
        )
        return stored.scalar ?? "UTC"
    }

    /// Turns --date or --from/--to into timestamps, letting PostgreSQL parse them in the
    /// session's time zone (so `yesterday` and DST days mean what they say).
    private static func resolveRange(
        _ request: Request,
        _ connection: PostgresConnection
    ) throws(DaybookError) -> (
        from: String, to: String, day: String?
    ) {
        do {
            if let start = request.windowStart {
                let row = try connection.query(
                    "SELECT $1::timestamptz::text, ($1::timestamptz + interval '1 microsecond')::text",
                    [start]
                ).rows.first
                return (row?[0] ?? "-infinity", row?[1] ?? "-infinity", nil)
            }
            if let date = request.date {
                let row = try connection.query(
                    "SELECT ($1::date)::timestamptz::text, ($1::date + 1)::timestamptz::text, ($1::date)::text",
                    [date]
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
                separator: ", "
            )
            throw DaybookError(
                .invalidArgument,
                "cannot read '\(given)' as a date: use YYYY-MM-DD, yesterday, today, or a timestamp"
            )
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
        + [.init(name: "pruned", kind: .text), .init(name: "incomplete", kind: .json)]

    /// Every window of the range, whatever its state: `closes_at` is the stream time that
    /// closes it (its end plus grace), `closed_by` what moved stream time there, `incomplete`
    /// whether a gap the operator accepted may touch it (``Gap``).
    private static let windowsSQL = """
        SELECT to_char(w.window_start, '\(windowFormat)'), to_char(w.window_end, '\(windowFormat)'), w.status, w.closed_by,
               to_char(w.closes_at, '\(windowFormat)'), to_char(w.closed_at, '\(changeFormat)'),
               coalesce(sum(t.inserts + t.updates + t.deletes + t.truncates), 0), coalesce(sum(t.transactions), 0),
               count(t.table_name), w.pruned, (\(Gaps.windowTouched))::text
          FROM daybook.windows w
          LEFT JOIN daybook.table_windows t USING (slot_name, window_start)
         WHERE ($1::text IS NULL OR w.slot_name = $1)
           AND w.window_start >= $2::timestamptz AND w.window_start < $3::timestamptz
         GROUP BY w.slot_name, w.window_start, w.window_end, w.status, w.closed_by, w.closes_at, w.closed_at, w.pruned
         ORDER BY w.window_start, w.slot_name
        """

    /// `$6`: the open windows' starts (an array), so that only their partitions are read (by
    /// the range, the view read a closed day of a million keys too: 1 s for the dashboard).
    private static let openKeyCounts = """
        LEFT JOIN (SELECT k.slot_name, k.window_start, k.table_name, count(*) AS keys
                     FROM daybook.open_key_windows k
                    WHERE $4::boolean AND ($1::text IS NULL OR k.slot_name = $1) AND k.window_start = ANY($6::timestamptz[])
                    GROUP BY k.slot_name, k.window_start, k.table_name) o USING (slot_name, window_start, table_name)
        """

    /// Per-table rows. A closed window's keys were counted when it closed; an open window's
    /// (`withOpen`: open ones asked for, and some in the range) are counted once per table over
    /// the range and joined, not by a subquery per row, which the planner may make a scan of
    /// every partition per table.
    private static func tablesSQL(_ request: Request, withOpen: Bool) -> String {
        """
        SELECT to_char(t.window_start, '\(windowFormat)'), to_char(t.window_end, '\(windowFormat)'), t.table_name,
               sum(t.inserts), sum(t.updates), sum(t.deletes), sum(t.truncates), sum(t.transactions),
               sum(coalesce(t.keys, \(withOpen ? "o.keys" : "NULL"), 0)),
               to_char(min(t.first_change_at), '\(changeFormat)'), to_char(max(t.last_change_at), '\(changeFormat)'),
               sum((SELECT count(*) FROM daybook.late_changes l JOIN daybook.checkpoint cp USING (slot_name)
                     WHERE l.slot_name = t.slot_name AND l.window_start = t.window_start
                       AND l.table_name = t.table_name AND l.commit_lsn < cp.lsn)),
               daybook.level_names(bit_or(t.levels))\(request.includeOpen ? ", min(w.status)" : "")
          FROM daybook.table_windows t
          JOIN daybook.windows w USING (slot_name, window_start)
          \(withOpen ? openKeyCounts : "")
         WHERE ($1::text IS NULL OR t.slot_name = $1)
           AND t.window_start >= $2::timestamptz AND t.window_start < $3::timestamptz
           AND ($4::boolean OR w.status = 'closed') AND ($5::text IS NULL OR t.table_name = $5)
         GROUP BY t.window_start, t.window_end, t.table_name
         ORDER BY t.window_start, t.table_name
        """
    }

    /// Per-key rows. `$5` a table, `$6`–`$9` the cursor (window start, table, first change,
    /// key as stored: rows after it), `$10` the page size plus one (NULL: all). Closed windows
    /// are read from `key_changes` directly, in the order of their index (migration 007), so a
    /// page reads a page; keys are turned into `jsonb` only for the rows printed. Open windows
    /// (with `includeOpen`) come from `open_key_windows`, merged as they are read. Trailing
    /// columns carry each row's cursor; ``fetch(_:from:)`` strips them.
    private static func keysSQL(_ request: Request, withOpen: Bool) -> String {
        let top = request.top != nil
        func branch(_ alias: String, from source: String, key: String, status: String, closed: Bool) -> String {
            let slot = request.slot == nil ? "$1::text IS NULL" : "\(alias).slot_name = $1"
            let table = request.table == nil ? "$5::text IS NULL" : "\(alias).table_name = $5"
            let cursor =
                request.after == nil || top
                ? "$6::timestamptz IS NULL AND $7::text IS NULL AND $8::timestamptz IS NULL AND $9::text IS NULL"
                : "(\(alias).window_start, \(alias).table_name, \(alias).first_change_at, \(key)) > ($6::timestamptz, $7::text, $8::timestamptz, $9::text)"
            let count = Report.operationCount(alias)
            let rank =
                top
                ? "row_number() OVER (PARTITION BY \(alias).slot_name, \(alias).window_start, \(alias).table_name ORDER BY \(count) DESC, \(key))"
                : "0"
            let windowState =
                closed
                ? "EXISTS (SELECT 1 FROM daybook.windows w WHERE w.slot_name = \(alias).slot_name AND w.window_start = \(alias).window_start AND w.status = 'closed')"
                : "$4::boolean"
            return """
                SELECT \(alias).slot_name, \(alias).window_start, \(alias).table_name, \(key) AS key, \(alias).ops,
                       \(alias).first_change_at, \(alias).last_change_at, \(status) AS status, \(rank) AS rank
                  FROM \(source)
                 WHERE \(slot) AND \(alias).window_start >= $2::timestamptz AND \(alias).window_start < $3::timestamptz
                   AND \(table) AND \(windowState) AND \(cursor)
                \(top ? "" : "ORDER BY \(alias).window_start, \(alias).table_name, \(alias).first_change_at, \(key) LIMIT $10::bigint")
                """
        }
        // Top keys of closed windows: per table, its rows through the window's index and a
        // top-N heap over them, not a sort of the whole day (8.4 s for a million keys, against
        // 0.9 s). An index-bounded statement: the lookup is by the index whatever the statistics.
        func closedTop(_ limit: Int) -> String {
            let slot = request.slot == nil ? "$1::text IS NULL" : "t.slot_name = $1"
            let table = request.table == nil ? "$5::text IS NULL" : "t.table_name = $5"
            let count = Report.operationCount("c")
            return """
                SELECT c.slot_name, c.window_start, c.table_name, c.key AS key, c.ops, c.first_change_at, c.last_change_at,
                       'closed'::text AS status,
                       row_number() OVER (PARTITION BY c.slot_name, c.window_start, c.table_name ORDER BY c.count DESC, c.key) AS rank
                  FROM (SELECT DISTINCT t.slot_name, t.window_start, t.table_name
                          FROM daybook.table_windows t
                          JOIN daybook.windows w ON w.slot_name = t.slot_name AND w.window_start = t.window_start
                         WHERE \(slot) AND t.window_start >= $2::timestamptz AND t.window_start < $3::timestamptz
                           AND \(table) AND w.status = 'closed') t
                 CROSS JOIN LATERAL (
                       SELECT c.*, \(count) AS count
                         FROM daybook.key_changes c
                        WHERE c.slot_name = t.slot_name AND c.window_start = t.window_start AND c.table_name = t.table_name
                        ORDER BY \(count) DESC, c.key
                        LIMIT \(max(limit, 0))) c
                 WHERE $6::timestamptz IS NULL AND $7::text IS NULL AND $8::timestamptz IS NULL AND $9::text IS NULL
                """
        }
        let closed =
            request.top.map(closedTop)
            ?? branch("c", from: "daybook.key_changes c", key: "c.key", status: "'closed'::text", closed: true)
        let open =
            withOpen
            ? branch(
                "o",
                from: "daybook.open_key_windows o JOIN daybook.windows ow USING (slot_name, window_start)",
                key: "o.key::text",
                status: "ow.status",
                closed: false
            )
            : "SELECT NULL::text, NULL::timestamptz, NULL::text, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::text, 0::bigint WHERE $4::boolean AND false"
        return """
            SELECT to_char(u.window_start, '\(windowFormat)'), to_char(w.window_end, '\(windowFormat)'), u.table_name,
                   u.key::jsonb::text, u.ops, to_char(u.first_change_at, '\(changeFormat)'),
                   to_char(u.last_change_at, '\(changeFormat)'), daybook.net_effect(u.ops)\(request.includeOpen ? ", u.status" : ""),
                   u.window_start::text, u.table_name, u.first_change_at::text, u.key
              FROM ((\(closed))
                    UNION ALL
                    (\(open))) u
              JOIN daybook.windows w ON w.slot_name = u.slot_name AND w.window_start = u.window_start
             \(request.top.map { "WHERE u.rank <= \(max($0, 0))" } ?? "")
             ORDER BY u.window_start, u.table_name, \(top ? "u.rank" : "u.first_change_at, u.key")
             LIMIT $10::bigint
            """
    }

}
