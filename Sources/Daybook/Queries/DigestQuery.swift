import DaybookCore
import Foundation
import PgOutput
import PostgresReplication
import Windowing

/// Builds the morning ``Digest`` from the sink: the one place the CLI, the API and the
/// dashboard get it from.
///
/// Its reads are bounded by the window and the rule's span: the per-table rows of the window
/// and its history (``DigestFigures``), the window's row, its table shapes and late changes,
/// and the top keys of the tables that need a reader's eye (unusual, new, truncated), each
/// through the per-key index with a top-N limit. No statement reads every per-key row of a
/// day for the headline.
public enum DigestQuery {
    /// What to digest, checked before any SQL.
    public struct Request: Sendable {
        /// One slot, or nil for every slot that has summarised something.
        public var slot: String?
        /// A day (`YYYY-MM-DD`, `today`, `yesterday`) in each slot's time zone: its window;
        /// nil: yesterday, unless ``moment`` is given.
        public var date: String?
        /// A moment (a timestamp), instead of a day: the window that holds it, for windows
        /// shorter than a day.
        public var moment: String?
        /// Only this table (schema.table).
        public var table: String?
        /// Keys per table listed for the tables that need a look.
        public var topKeys = 5
        /// Actors, applications and origins listed per table (the rest summed).
        public var topActors = 5
        public var rule = VolumeRule()
        public var massDeletes = MassDeleteRule()

        public init() {}

        /// The day asked for.
        var day: String { date ?? "yesterday" }
    }

    /// The digest of `request`; an ``DaybookError/Code/invalidArgument`` for a date in the
    /// future, an unknown slot or table, or a value that is not a date.
    public static func fetch(_ request: Request, from sink: PostgresConnection) throws(DaybookError) -> Digest {
        if request.moment != nil && request.date != nil {
            throw DaybookError(.invalidArgument, "give a day or a moment, not both")
        }
        if let start = request.moment {
            guard ReportInput.isTimestamp(start) else {
                throw DaybookError(
                    .invalidArgument,
                    "cannot read '\(start)' as a timestamp: use one such as 2026-12-05T08:00:00Z"
                )
            }
        } else {
            let date = request.day
            guard ReportInput.isMoment(date), !ReportInput.isTimestamp(date), !date.hasSuffix("infinity"),
                date != "tomorrow"
            else {
                throw DaybookError(
                    .invalidArgument,
                    "cannot read '\(date)' as a date: use YYYY-MM-DD, yesterday or today"
                )
            }
        }
        guard request.topKeys >= 0, request.rule.span >= 1, request.rule.minimumHistory >= 1 else {
            throw DaybookError(.invalidArgument, "--top-keys, --span and --minimum-history take positive numbers")
        }
        return try DaybookError.mapping(role: .sink) { () throws -> Digest in
            let slots = try slotNames(request.slot, sink)
            if let table = request.table {
                let known =
                    try sink.query(
                        "SELECT 1 FROM daybook.table_windows WHERE table_name = $1 AND ($2::text IS NULL OR slot_name = $2) LIMIT 1",
                        [table, request.slot]
                    ).rows.count > 0
                guard known else {
                    throw DaybookError(
                        .notFound,
                        "no table \(table) in this sink's results (schema.table, as `daybook report` prints it)"
                    )
                }
            }
            var sections: [Digest.Slot] = []
            var day: String?
            for slot in slots {
                let section = try SlotDigestReader(slot: slot, request: request, sink: sink).read()
                day = day ?? section.day
                sections.append(section.digest)
            }
            return Digest(date: request.moment == nil ? day : nil, slots: sections)
        }
    }

    private static func slotNames(_ slot: String?, _ sink: PostgresConnection) throws -> [String] {
        let names = try sink.query(
            """
            SELECT c.slot_name FROM daybook.checkpoint c
             WHERE ($1::text IS NULL OR c.slot_name = $1) AND c.window_length IS NOT NULL
             ORDER BY c.slot_name
            """,
            [slot]
        ).rows.compactMap { $0[0] }
        if names.isEmpty {
            throw DaybookError(
                .notFound,
                slot.map { "slot \($0) has summarised nothing in this sink: check --slot, or run `daybook run` first" }
                    ?? "no slot has summarised anything in this sink yet: run `daybook run` first"
            )
        }
        return names
    }
}

/// One slot's section of the digest.
private struct SlotDigestReader {
    let slot: String
    let request: DigestQuery.Request
    let sink: PostgresConnection

    func read() throws -> (digest: Digest.Slot, day: String?) {
        guard let stored = try StoredWindowSettings.load(sink, slot: slot) else {
            throw DaybookError(.notFound, "slot \(slot) has summarised nothing in this sink yet")
        }
        guard let zone = TimeZone(identifier: stored.timeZone) else {
            throw DaybookError(.configuration, "slot \(slot)'s time zone \(stored.timeZone) is unknown here")
        }
        // A moment without an offset is read in the slot's time zone, whatever the connection
        // (a pooled one of the API) was set to before.
        _ = try sink.query("SELECT set_config('TimeZone', $1, false)", [stored.timeZone])
        var calendar = WindowCalendar(length: try stored.windowLength(), timeZone: zone)
        let now = Timestamp(Date())
        let (window, day) = try target(&calendar, now: now)
        guard window.start <= now else {
            throw DaybookError(
                .notFound,
                "\(request.moment ?? request.day) is in the future: the digest is of a day that has begun"
            )
        }
        func iso(_ time: Timestamp) -> String { time.iso8601(in: zone) }
        let checkpoint = try CheckpointRow.read(slot: slot, on: sink)
        let state = try windowState(window, grace: stored.graceMicroseconds, checkpoint: checkpoint, now: now, iso)
        var headline = Digest.Headline()
        var tables: [Digest.Table] = []
        var notes: [Digest.SchemaChangeNote] = []
        if state.state != .pruned {
            let figures = try DigestFigures.read(
                slot: slot,
                windowStart: window.start,
                calendar: calendar,
                rule: request.rule,
                on: sink
            )
            let late = try lateChanges(window)
            let rows = try sourceRows(window)
            for table in figures.tables where request.table == nil || table.name == request.table {
                tables.append(digestTable(table, late: late[table.name] ?? 0))
                let volumes = table.window.volumes
                if volumes.truncates > 0 {
                    headline.massChanges.append(.init(table: table.name, kind: .truncate, count: volumes.truncates))
                }
                let rule = request.massDeletes
                let after = rows[table.name]
                if rule.isMassDelete(deletes: volumes.deletes, inserts: volumes.inserts, rowsAfter: after) {
                    headline.massChanges.append(
                        .init(
                            table: table.name,
                            kind: .massDelete,
                            count: volumes.deletes,
                            share: rule.share(deletes: volumes.deletes, inserts: volumes.inserts, rowsAfter: after)
                        )
                    )
                }
            }
            notes = try schemaChanges(window, iso).filter { request.table == nil || $0.table == request.table }
            headline.lateChanges = late.values.reduce(0, +)
        }
        // The tables that need a look first: unusual, then new, then the rest by name.
        func rank(_ table: Digest.Table) -> Int {
            switch table.verdict {
            case .unusual, .silent: 0
            case .new: 1
            default: 2
            }
        }
        tables.sort { (rank($0), $0.table) < (rank($1), $1.table) }
        let massTables = Set(headline.massChanges.map(\.table))
        for index in tables.indices
        where request.topKeys > 0
            && (rank(tables[index]) < 2 || massTables.contains(tables[index].table)) && tables[index].changes > 0
        {
            tables[index].topKeys = try topKeys(window, table: tables[index].table)
        }
        // Every TRUNCATE first, then the mass deletes, each by table.
        func order(_ change: Digest.MassChange) -> (Int, String) { (change.kind == .truncate ? 0 : 1, change.table) }
        headline.massChanges.sort { order($0) < order($1) }
        if state.state == .open {
            // The day is not over: a table that has not changed yet is not silent yet, and a
            // figure below its usual range may still reach it; one above it is news already.
            for index in tables.indices {
                switch tables[index].verdict {
                case .silent:
                    tables[index].verdict = .pending
                case .unusual, .usual:
                    for figure in tables[index].figures.indices {
                        let value = tables[index].figures[figure]
                        tables[index].figures[figure].unusual = value.value > value.expectedMax
                    }
                    tables[index].verdict = tables[index].figures.contains(where: \.unusual) ? .unusual : .usual
                default:
                    break
                }
            }
        }
        let attribution = try attributions(window)
        for index in tables.indices {
            guard let rows = attribution[tables[index].table] else {
                tables[index].unattributed = tables[index].changes
                continue
            }
            let shares = Self.shares(rows, of: tables[index].changes, top: request.topActors)
            tables[index].actors = shares.actors
            tables[index].applications = shares.applications
            tables[index].origins = shares.origins
            tables[index].unattributed = shares.unattributed
        }
        tables.sort { (rank($0), $0.table) < (rank($1), $1.table) }
        headline.changes = tables.reduce(0) { $0 + $1.changes }
        headline.tablesChanged = tables.count { $0.changes > 0 }
        headline.unusual = tables.filter { $0.verdict == .unusual }.map(\.table)
        headline.silent = tables.filter { $0.verdict == .silent }.map(\.table)
        headline.new = tables.filter { $0.verdict == .new }.map(\.table)
        headline.schemaChanged = notes.map(\.table).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        headline.openWindows = try openWindows(before: window, iso)
        let gaps = try Gaps.touching(
            slot: slot,
            from: iso(window.start),
            to: iso(window.end),
            sink
        )
        return (
            Digest.Slot(
                slot: slot,
                timeZone: stored.timeZone,
                window: state,
                headline: headline,
                tables: tables,
                schemaChanges: notes,
                incomplete: gaps.map(\.sentence),
                rule: Digest.RuleSettings(request.rule, massDeletes: request.massDeletes)
            ),
            day
        )
    }

    /// The window asked for, and its day (`YYYY-MM-DD`) when asked by date.
    private func target(_ calendar: inout WindowCalendar, now: Timestamp) throws -> (Window, String?) {
        if let start = request.moment {
            let micros = try sink.query("SELECT daybook.to_micros($1::timestamptz)", [start]).scalar.flatMap {
                Int64($0)
            }
            return (calendar.window(containing: Timestamp(microsecondsSinceEpoch: micros ?? 0)), nil)
        }
        guard calendar.length.nominalSeconds >= 86_400 else {
            throw DaybookError(
                .notFound,
                "slot \(slot)'s windows are \(calendar.length) long: a day holds "
                    + "several: ask for one by a moment in it (a timestamp)"
            )
        }
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = calendar.timeZone
        let today = calendar.localDay(containing: now)
        let dayStart: Timestamp
        switch request.day {
        case "today": dayStart = today.start
        case "yesterday":
            dayStart =
                calendar.localDay(containing: Timestamp(microsecondsSinceEpoch: today.start.microsecondsSinceEpoch - 1))
                .start
        default:
            let parts = request.day.split(separator: "-").compactMap { Int($0) }
            let noon = gregorian.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))!
            dayStart = calendar.localDay(containing: Timestamp(noon)).start
        }
        let formatter = DateFormatter()
        formatter.calendar = gregorian
        formatter.timeZone = calendar.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return (calendar.window(containing: dayStart), formatter.string(from: dayStart.date))
    }

    private func windowState(
        _ window: Window,
        grace: Int64,
        checkpoint: CheckpointRow?,
        now: Timestamp,
        _ iso: (Timestamp) -> String
    ) throws -> Digest.WindowState {
        let closesAt = Timestamp(microsecondsSinceEpoch: window.end.microsecondsSinceEpoch + grace)
        var state = Digest.WindowState(start: iso(window.start), end: iso(window.end), state: .none)
        let row = try sink.query(
            """
            SELECT status, daybook.to_micros(closed_at), closed_by, pruned
              FROM daybook.windows WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)
            """,
            [slot, String(window.start.microsecondsSinceEpoch)]
        ).rows.first
        func time(_ text: String??) -> Timestamp? {
            text.flatMap { $0 }.flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
        }
        if let row {
            state.state = row[3] == "all" ? .pruned : row[0] == "closed" ? .closed : .open
            state.closedAt = time(row[1]).map(iso)
            state.closedBy = row[2]
        } else if let first = try firstWindowStart(), window.end <= first {
            // Before the slot's first window: Daybook did not watch the slot then.
            state.state = .none
        } else if let streamTime = checkpoint?.streamTime, streamTime >= closesAt {
            // No row: nothing changed that day, and stream time has passed it: a closed, empty day.
            state.state = .closed
        } else {
            state.state = .open
        }
        if state.state == .open {
            state.closesAt = iso(closesAt)
            state.streamTime = checkpoint?.streamTime.map(iso)
            state.lastHeartbeatAgo = checkpoint?.lastHeartbeat.map {
                HumanDuration.text(
                    seconds: Double(max(0, (now.microsecondsSinceEpoch - $0.microsecondsSinceEpoch) / 1_000_000))
                )
            }
        }
        return state
    }

    private func firstWindowStart() throws -> Timestamp? {
        try sink.query(
            "SELECT daybook.to_micros(min(window_start)) FROM daybook.windows WHERE slot_name = $1",
            [slot]
        ).scalar.flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
    }

    private func digestTable(_ figures: DigestFigures.Table, late: Int) -> Digest.Table {
        let volumes = figures.window.volumes
        var verdict: Digest.Table.Verdict
        var judged: [Digest.Figure] = []
        switch figures.verdict {
        case .judged(let verdicts):
            judged = verdicts.map(Digest.Figure.init)
            verdict = figures.verdict.isUnusual ? .unusual : .usual
        case .silent: verdict = .silent
        case .new: verdict = .new
        case .notEnoughHistory: verdict = .notEnoughHistory
        }
        return Digest.Table(
            table: figures.name,
            inserts: volumes.inserts,
            updates: volumes.updates,
            deletes: volumes.deletes,
            truncates: volumes.truncates,
            verdict: verdict,
            figures: judged,
            historyWindows: figures.history.count,
            historyNeeded: request.rule.minimumHistory,
            lateChanges: late
        )
    }

    private func lateChanges(_ window: Window) throws -> [String: Int] {
        let rows = try sink.query(
            """
            SELECT table_name, count(*) FROM daybook.late_changes
             WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)
             GROUP BY table_name
            """,
            [slot, String(window.start.microsecondsSinceEpoch)]
        ).rows
        var late: [String: Int] = [:]
        for row in rows { if let table = row[0] { late[table] = row[1].flatMap { Int($0) } ?? 0 } }
        return late
    }

    /// The source's row estimate of each table, read when the window closed.
    private func sourceRows(_ window: Window) throws -> [String: Int] {
        let rows = try sink.query(
            """
            SELECT table_name, source_rows FROM daybook.table_windows
             WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint) AND source_rows IS NOT NULL
            """,
            [slot, String(window.start.microsecondsSinceEpoch)]
        ).rows
        var estimates: [String: Int] = [:]
        for row in rows { if let table = row[0], let count = row[1].flatMap({ Int($0) }) { estimates[table] = count } }
        return estimates
    }

    /// Each shape first seen in the window against the same table's shape before it.
    private func schemaChanges(_ window: Window, _ iso: (Timestamp) -> String) throws -> [Digest.SchemaChangeNote] {
        let rows = try sink.query(
            """
            SELECT s.relid::text, s.lsn::text, daybook.to_micros(s.commit_time), s.schema_name, s.table_name,
                   s.replica_identity, s.columns::text,
                   p.schema_name, p.table_name, p.replica_identity, p.columns::text
              FROM daybook.table_shapes s
              LEFT JOIN LATERAL (
                    SELECT * FROM daybook.table_shapes p
                     WHERE p.slot_name = s.slot_name AND p.relid = s.relid AND p.lsn < s.lsn
                     ORDER BY p.lsn DESC LIMIT 1) p ON true
             WHERE s.slot_name = $1 AND s.commit_time >= daybook.from_micros($2::bigint)
               AND s.commit_time < daybook.from_micros($3::bigint)
             ORDER BY s.lsn, s.relid
            """,
            [slot, String(window.start.microsecondsSinceEpoch), String(window.end.microsecondsSinceEpoch)]
        ).rows
        var pending: [(SchemaChange, table: String, lsn: String, time: String?)] = []
        var types: Set<SchemaChange.ColumnType> = []
        for row in rows {
            guard let oid = row[0].flatMap({ UInt32($0) }), let lsn = row[1], let schema = row[3], let name = row[4],
                let identity = row[5], let columns = row[6],
                let shape = TableShape.relation(
                    oid: oid,
                    schemaName: schema,
                    tableName: name,
                    replicaIdentity: identity,
                    columns: columns
                )
            else { continue }
            var previous: Relation?
            if let schema = row[7], let name = row[8], let identity = row[9], let columns = row[10] {
                previous = TableShape.relation(
                    oid: oid,
                    schemaName: schema,
                    tableName: name,
                    replicaIdentity: identity,
                    columns: columns
                )
            }
            let time = row[2].flatMap { Int64($0) }.map { iso(Timestamp(microsecondsSinceEpoch: $0)) }
            for change in SchemaChange.changes(from: previous, to: shape) {
                pending.append((change, "\(schema).\(name)", lsn, time))
                switch change {
                case .tableSeen(let columns):
                    for column in columns { types.insert(.init(oid: column.typeOID, modifier: column.typeModifier)) }
                case .columnAdded(let column), .columnDropped(let column):
                    types.insert(.init(oid: column.typeOID, modifier: column.typeModifier))
                case .columnRetyped(_, let from, let to):
                    types.insert(from)
                    types.insert(to)
                default: break
                }
            }
        }
        let names = try typeNames(types)
        return pending.map { change, table, lsn, time in
            Digest.SchemaChangeNote(change, table: table, lsn: lsn, commitTime: time) { type in
                names[type] ?? "type \(type.oid)"
            }
        }
    }

    /// Names of types as `format_type` gives them. Built-in types (OIDs below 16384) have the
    /// same OIDs in every cluster, so the sink names them; a type the source created is named
    /// by its OID.
    private func typeNames(_ types: Set<SchemaChange.ColumnType>) throws -> [SchemaChange.ColumnType: String] {
        let builtIn = types.filter { $0.oid < 16_384 }
        guard !builtIn.isEmpty else { return [:] }
        let list = Array(builtIn)
        let rows = try sink.query(
            """
            SELECT format_type(t.oid::oid, t.typmod) FROM unnest($1::bigint[], $2::integer[]) WITH ORDINALITY AS t(oid, typmod, n)
             ORDER BY t.n
            """,
            [
                "{" + list.map { String($0.oid) }.joined(separator: ",") + "}",
                "{" + list.map { String($0.modifier) }.joined(separator: ",") + "}",
            ]
        ).rows
        var names: [SchemaChange.ColumnType: String] = [:]
        for (type, row) in zip(list, rows) { if let name = row[0] { names[type] = name } }
        return names
    }

    /// The keys that changed most in `table`, through the per-key index, a top-N heap.
    private func topKeys(_ window: Window, table: String) throws -> [Digest.KeyChanges] {
        let count = Report.operationCount("c")
        return try sink.query(
            """
            SELECT c.key, \(count) FROM daybook.key_changes c
             WHERE c.slot_name = $1 AND c.window_start = daybook.from_micros($2::bigint) AND c.table_name = $3
             ORDER BY \(count) DESC, c.key LIMIT $4::bigint
            """,
            [slot, String(window.start.microsecondsSinceEpoch), table, String(request.topKeys)]
        ).rows.compactMap { row in
            guard let key = row[0].flatMap({ DaybookJSON.decode(JSONValue.self, from: $0) }),
                let changes = row[1].flatMap({ Int($0) })
            else { return nil }
            return Digest.KeyChanges(key: key, changes: changes)
        }
    }

    /// The window's attributed changes per table: (actor, application, origin, changes).
    private func attributions(_ window: Window) throws -> [String: [(Attribution, Int)]] {
        let rows = try sink.query(
            """
            SELECT table_name, actor, application, origin, changes FROM daybook.actor_windows
             WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)
            """,
            [slot, String(window.start.microsecondsSinceEpoch)]
        ).rows
        var byTable: [String: [(Attribution, Int)]] = [:]
        for row in rows {
            guard let table = row[0], let changes = row[4].flatMap({ Int($0) }) else { continue }
            let who = Attribution(actor: row[1] ?? "", application: row[2] ?? "", origin: row[3] ?? "")
            byTable[table, default: []].append((who, changes))
        }
        return byTable
    }

    /// The largest `top` actors, applications and origins of a table's attributed changes
    /// (the rest summed as `(others)`), and its changes that nobody claimed.
    static func shares(
        _ rows: [(Attribution, Int)],
        of total: Int,
        top: Int
    ) -> (actors: [Digest.Share], applications: [Digest.Share], origins: [Digest.Share], unattributed: Int) {
        let others = "(others)"
        func largest(_ name: (Attribution) -> String) -> [Digest.Share] {
            var sums: [String: Int] = [:]
            for (who, changes) in rows {
                // The row that sums what was not kept by name counts as (others) for each.
                let key = who.isEmpty ? others : name(who)
                guard !key.isEmpty else { continue }
                sums[key, default: 0] += changes
            }
            let sorted = sums.filter { $0.key != others }.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            var shares = sorted.prefix(top).map { Digest.Share(name: $0.key, changes: $0.value) }
            let rest = sorted.dropFirst(top).reduce(sums[others] ?? 0) { $0 + $1.value }
            if rest > 0 { shares.append(Digest.Share(name: others, changes: rest)) }
            return shares
        }
        let attributed = rows.reduce(0) { $0 + $1.1 }
        return (largest(\.actor), largest(\.application), largest(\.origin), max(0, total - attributed))
    }

    /// The slot's windows before `window` that have not closed.
    private func openWindows(before window: Window, _ iso: (Timestamp) -> String) throws -> [Digest.OpenWindow] {
        try sink.query(
            """
            SELECT daybook.to_micros(window_start), daybook.to_micros(closes_at) FROM daybook.windows
             WHERE slot_name = $1 AND status <> 'closed' AND window_start < daybook.from_micros($2::bigint)
             ORDER BY window_start LIMIT 10
            """,
            [slot, String(window.start.microsecondsSinceEpoch)]
        ).rows.compactMap { row in
            guard let start = row[0].flatMap({ Int64($0) }), let closes = row[1].flatMap({ Int64($0) }) else {
                return nil
            }
            return Digest.OpenWindow(
                start: iso(Timestamp(microsecondsSinceEpoch: start)),
                closesAt: iso(Timestamp(microsecondsSinceEpoch: closes))
            )
        }
    }
}
