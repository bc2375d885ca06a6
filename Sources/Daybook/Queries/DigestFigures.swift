import DaybookCore
import Foundation
import PostgresReplication
import Windowing

/// The digest's figures for one window of one slot: each table's inserts, updates, deletes and
/// truncates, judged by ``VolumeRule`` against the same table in the windows before it.
///
/// The history is the calendar's windows before this one (as many as the rule's span), from
/// the slot's first window on: a window in which a table did not change counts as zeros for
/// it (a day without any change has no row anywhere, and still counts), and the windows from
/// before Daybook watched the slot do not count at all, nor those before a table's first change.
/// A table that changed in the history and not in this window is judged too (that is how a
/// table goes `silent`). It reads only the per-table rows of `daybook.table_windows` in that
/// range (one index range, never a per-key row), and asks once more, for the tables whose
/// history starts quiet, which of them changed before the span. Windows whose results
/// `prune --all` removed are left out of the history: their figures are unknown, not zeros.
public struct DigestFigures: Sendable {
    /// One table's figures and verdict.
    public struct Table: Sendable {
        public var name: String
        public var window: VolumeRule.Window
        /// The windows of history the verdict rests on, oldest first.
        public var history: [VolumeRule.Window]
        public var verdict: VolumeRule.Verdict
    }

    public var window: Window
    /// Every table that changed in the window or in its history, by name.
    public var tables: [Table]

    /// Reads and judges the figures of the window starting at `windowStart`.
    ///
    /// - Parameter calendar: the slot's windows (its stored length and time zone).
    public static func read(
        slot: String,
        windowStart: Timestamp,
        calendar: WindowCalendar,
        rule: VolumeRule,
        on connection: PostgresConnection
    ) throws(PostgresError) -> DigestFigures {
        var calendar = calendar
        let window = calendar.window(containing: windowStart)
        let firstStart = try connection.query(
            "SELECT daybook.to_micros(min(window_start)) FROM daybook.windows WHERE slot_name = $1",
            [slot]
        ).scalar.flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
        // The calendar's windows before this one, newest first, back to the slot's first.
        var earlier: [Window] = []
        var cursor = window
        while earlier.count < rule.span, let first = firstStart, cursor.start > first {
            cursor = calendar.window(
                containing: Timestamp(microsecondsSinceEpoch: cursor.start.microsecondsSinceEpoch - 1)
            )
            earlier.append(cursor)
        }
        let from = earlier.last?.start ?? window.start
        // A window whose results `prune --all` removed is unknown, not a window of zeros.
        let pruned = Set(
            try connection.query(
                """
                SELECT daybook.to_micros(window_start) FROM daybook.windows
                 WHERE slot_name = $1 AND pruned = 'all' AND window_start >= daybook.from_micros($2::bigint)
                   AND window_start < daybook.from_micros($3::bigint)
                """,
                [slot, String(from.microsecondsSinceEpoch), String(window.start.microsecondsSinceEpoch)]
            ).rows.compactMap { $0[0].flatMap { Int64($0) } }
        )
        earlier.removeAll { pruned.contains($0.start.microsecondsSinceEpoch) }
        // With windows pruned at or before the span, a table without history may have changed
        // in them: its history is unknown, never `new`.
        var anyPruned = !pruned.isEmpty
        if !anyPruned {
            anyPruned =
                try connection.query(
                    """
                    SELECT EXISTS (SELECT 1 FROM daybook.windows WHERE slot_name = $1 AND pruned = 'all'
                                      AND window_start < daybook.from_micros($2::bigint))
                    """,
                    [slot, String(from.microsecondsSinceEpoch)]
                ).scalar == "t"
        }
        let rows = try connection.query(
            """
            SELECT table_name, daybook.to_micros(window_start)::text, inserts, updates, deletes, truncates
              FROM daybook.table_windows
             WHERE slot_name = $1 AND window_start >= daybook.from_micros($2::bigint)
               AND window_start <= daybook.from_micros($3::bigint)
            """,
            [slot, String(from.microsecondsSinceEpoch), String(window.start.microsecondsSinceEpoch)]
        ).rows
        var volumes: [String: [Int64: VolumeRule.Volumes]] = [:]
        for row in rows {
            guard let table = row[0], let start = row[1].flatMap({ Int64($0) }) else { continue }
            func count(_ index: Int) -> Int { row[index].flatMap { Int($0) } ?? 0 }
            volumes[table, default: [:]][start] = VolumeRule.Volumes(
                inserts: count(2),
                updates: count(3),
                deletes: count(4),
                truncates: count(5)
            )
        }
        let weekday = Self.weekday(calendar)
        // The tables whose history starts quiet: which of them changed before the span (one
        // statement for all of them).
        let oldest = earlier.last?.start.microsecondsSinceEpoch
        let quietAtStart = volumes.filter { oldest != nil && $0.value[oldest!] == nil }.map(\.key)
        var seenBefore: Set<String> = []
        if !quietAtStart.isEmpty {
            seenBefore = Set(
                try connection.query(
                    """
                    SELECT DISTINCT table_name FROM daybook.table_windows
                     WHERE slot_name = $1 AND table_name IN (SELECT jsonb_array_elements_text($2::jsonb))
                       AND window_start < daybook.from_micros($3::bigint)
                    """,
                    [slot, DaybookJSON.text(quietAtStart.sorted()), String(from.microsecondsSinceEpoch)]
                ).rows.compactMap { $0[0] }
            )
        }
        var tables: [Table] = []
        for name in volumes.keys.sorted() {
            let byStart = volumes[name]!
            func point(_ window: Window) -> VolumeRule.Window {
                VolumeRule.Window(
                    byStart[window.start.microsecondsSinceEpoch] ?? VolumeRule.Volumes(),
                    weekday: weekday(window)
                )
            }
            var history = earlier.reversed().map(point)
            let today = point(window)
            // A table's history starts at its first change: one that first changed within the
            // span has only the windows since (too few: "not enough history"; none: `new`).
            // With windows pruned before, a table may have changed in them: its quiet start is
            // left out too, and too little history is said, never `new` (below).
            if history.first?.volumes.total == 0, !seenBefore.contains(name) || anyPruned {
                history = Array(history.drop { $0.volumes.total == 0 })
            }
            var verdict = rule.judge(today, history: history)
            if verdict == .new, anyPruned { verdict = .notEnoughHistory(have: 0, need: rule.minimumHistory) }
            tables.append(Table(name: name, window: today, history: history, verdict: verdict))
        }
        return DigestFigures(window: window, tables: tables)
    }

    /// A window's weekday in the slot's time zone when windows are days (1 = Sunday), else
    /// nil: hours and multi-day windows are not compared by weekday.
    private static func weekday(_ calendar: WindowCalendar) -> (Window) -> Int? {
        guard case .days(1) = calendar.length.kind else { return { _ in nil } }
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = calendar.timeZone
        return { window in
            gregorian.component(
                .weekday,
                from: Date(timeIntervalSince1970: Double(window.start.microsecondsSinceEpoch) / 1e6)
            )
        }
    }
}
