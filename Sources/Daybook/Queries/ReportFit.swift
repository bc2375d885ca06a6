import DaybookCore

/// The text report as people read it in a terminal (`daybook report` without `--wide`): the
/// window once (`2026-12-05` for a day, `02:10:50–02:11:00` for a shorter window), times of day
/// to the second instead of full timestamps, shorter headers (`ins`, `upd`, `del`, `trunc`,
/// `txns`; `first` and `last` for the times of the first and last change), and columns that are zero in every row left out with a note, so
/// that a day's report fits 100 columns; the capture level is said once when every row has the
/// same. CSV, JSON and `--wide` keep every
/// column and full precision: programs and diffs read those.
public enum ReportFit {
    /// The table as shown, and the lines to print after it: what every row shares and what was
    /// left out (nil when nothing was).
    public static func fit(_ table: ReportTable) -> (table: ReportTable, note: String?) {
        let names = table.columns.map(\.name)
        guard let startIndex = names.firstIndex(of: "window_start"), let endIndex = names.firstIndex(of: "window_end")
        else { return (table, nil) }
        let starts = table.rows.map { $0[startIndex] ?? "" }
        let ends = table.rows.map { $0[endIndex] ?? "" }
        let wholeDays = zip(starts, ends).allSatisfy { Self.isWholeDay(start: $0, end: $1) }
        let dates = Set(starts.map { String($0.prefix(10)) })
        let timesOnly = !wholeDays && dates.count == 1
        let droppable: Set<String> = ["truncates", "late", "transactions", "pruned", "incomplete"]
        let zero: Set<String?> = [nil, "", "0", "false"]
        var kept: [Int] = []
        var leftOut: [String] = []
        var sameInEveryRow: [String] = []
        for (index, column) in table.columns.enumerated() where index != endIndex {
            if droppable.contains(column.name), table.rows.allSatisfy({ zero.contains($0[index]) }) {
                leftOut.append(column.name)
            } else if column.name == "levels", let first = table.rows.first?[index] ?? nil,
                table.rows.allSatisfy({ $0[index] == first })
            {
                sameInEveryRow.append("captured at \(first)")
            } else {
                kept.append(index)
            }
        }
        let timeColumns: Set<String> = ["first_change_at", "last_change_at", "closes_at", "closed_at"]
        // Shorter headers where the full name would widen its column past its values.
        let shortNames = [
            "first_change_at": "first", "last_change_at": "last", "transactions": "txns", "inserts": "ins",
            "updates": "upd", "deletes": "del", "truncates": "trunc",
        ]
        let columns = kept.map { index in
            let column = table.columns[index]
            if index == startIndex { return ReportTable.Column(name: "window", kind: .text) }
            return ReportTable.Column(name: shortNames[column.name] ?? column.name, kind: column.kind)
        }
        let rows = table.rows.map { row in
            kept.map { index -> String? in
                let name = table.columns[index].name
                if index == startIndex {
                    let start = row[startIndex] ?? ""
                    let end = row[endIndex] ?? ""
                    if wholeDays { return String(start.prefix(10)) }
                    let span = Self.timeOfDay(start) + "–" + Self.timeOfDay(end)
                    return timesOnly ? span : String(start.prefix(10)) + " " + span
                }
                if table.columns[index].kind == .json { return row[index].map(JSONText.compact) }
                guard timeColumns.contains(name), let value = row[index] else { return row[index] }
                // The time of day where it is the window's own date, else the date too.
                let windowDate = (row[startIndex] ?? "").prefix(10)
                return value.prefix(10) == windowDate ? Self.timeOfDay(value) : Self.dateAndTime(value)
            }
        }
        var notes: [String] = []
        let said = (timesOnly ? ["windows of \(dates.first!)"] : []) + sameInEveryRow
        if !said.isEmpty { notes.append(said.joined(separator: ", ")) }
        if !leftOut.isEmpty {
            notes.append("not shown, zero in every row: \(leftOut.joined(separator: ", ")) (--wide shows every column)")
        }
        return (ReportTable(columns: columns, rows: rows), notes.isEmpty ? nil : notes.joined(separator: "\n"))
    }

    /// `HH:MM:SS` of an ISO 8601 timestamp as the report prints them (`2026-12-05T02:11:13.880523+00:00`).
    static func timeOfDay(_ timestamp: String) -> String {
        let characters = Array(timestamp)
        guard characters.count >= 19 else { return timestamp }
        return String(characters[11..<19])
    }

    /// `YYYY-MM-DD HH:MM:SS` of such a timestamp.
    static func dateAndTime(_ timestamp: String) -> String {
        guard timestamp.count >= 19 else { return timestamp }
        return String(timestamp.prefix(10)) + " " + timeOfDay(timestamp)
    }

    /// Whether a window runs from one midnight to the next (a day window, 23 or 25 hours long
    /// across a daylight-saving change included).
    static func isWholeDay(start: String, end: String) -> Bool {
        guard timeOfDay(start) == "00:00:00", timeOfDay(end) == "00:00:00", start.count >= 10, end.count >= 10,
            let startDay = dayNumber(String(start.prefix(10))), let endDay = dayNumber(String(end.prefix(10)))
        else { return false }
        return endDay - startDay == 1
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date (the proleptic Gregorian calendar).
    private static func dayNumber(_ date: String) -> Int? {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var (year, month, day) = (parts[0], parts[1], parts[2])
        // Days from civil (Howard Hinnant's algorithm).
        year -= month <= 2 ? 1 : 0
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        month = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * month + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
