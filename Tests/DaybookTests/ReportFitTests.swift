import Testing

@testable import Daybook

/// The text report as people read it: the window once, times of day, zero columns left out.
struct ReportFitTests {
    private let columns: [ReportTable.Column] =
        [
            .init(name: "window_start", kind: .text), .init(name: "window_end", kind: .text),
            .init(name: "table", kind: .text),
        ]
        + ["inserts", "updates", "deletes", "truncates", "transactions", "keys"].map { .init(name: $0, kind: .number) }
        + [
            .init(name: "first_change_at", kind: .text), .init(name: "last_change_at", kind: .text),
            .init(name: "late", kind: .number), .init(name: "levels", kind: .text),
        ]

    private func row(
        _ start: String,
        _ end: String,
        _ first: String,
        truncates: String = "0",
        level: String = "keys"
    )
        -> [String?]
    {
        [start, end, "shop.orders", "12", "3", "0", truncates, "4", "12", first, first, "0", level]
    }

    @Test func aDayIsItsDateAndChangeTimesAreTimesOfDay() {
        let table = ReportTable(
            columns: columns,
            rows: [
                row("2026-12-05T00:00:00+01:00", "2026-12-06T00:00:00+01:00", "2026-12-05T02:11:13.880523+01:00"),
                // A late change committed the next day, and a day of 25 hours (DST ends).
                row("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", "2026-10-26T00:00:04.1+01:00"),
            ]
        )
        let (fitted, note) = ReportFit.fit(table)
        #expect(
            fitted.columns.map(\.name) == [
                "window", "table", "ins", "upd", "del", "txns", "keys", "first", "last",
            ]
        )
        #expect(fitted.rows[0] == ["2026-12-05", "shop.orders", "12", "3", "0", "4", "12", "02:11:13", "02:11:13"])
        #expect(fitted.rows[1][0] == "2026-10-25" && fitted.rows[1][7] == "2026-10-26 00:00:04")
        #expect(note == "captured at keys\nnot shown, zero in every row: truncates, late (--wide shows every column)")
    }

    @Test func aShortWindowIsItsTimesWithTheDateSaidOnce() {
        let table = ReportTable(
            columns: columns,
            rows: [
                row(
                    "2026-12-06T02:10:50+00:00",
                    "2026-12-06T02:11:00+00:00",
                    "2026-12-06T02:10:51.5+00:00",
                    truncates: "1"
                ),
                row(
                    "2026-12-06T02:11:00+00:00",
                    "2026-12-06T02:11:10+00:00",
                    "2026-12-06T02:11:01+00:00",
                    level: "values"
                ),
            ]
        )
        let (fitted, note) = ReportFit.fit(table)
        #expect(fitted.rows.map { $0[0] } == ["02:10:50–02:11:00", "02:11:00–02:11:10"])
        #expect(fitted.columns.map(\.name).contains("trunc") && fitted.columns.map(\.name).contains("levels"))
        #expect(note == "windows of 2026-12-06\nnot shown, zero in every row: late (--wide shows every column)")
        // Windows on two dates keep the date.
        let twoDates = ReportTable(
            columns: columns,
            rows: [
                row("2026-12-06T23:59:50+00:00", "2026-12-07T00:00:00+00:00", "2026-12-06T23:59:51+00:00"),
                row("2026-12-07T00:00:00+00:00", "2026-12-07T00:00:10+00:00", "2026-12-07T00:00:01+00:00"),
            ]
        )
        #expect(
            ReportFit.fit(twoDates).table.rows.map { $0[0] } == [
                "2026-12-06 23:59:50–00:00:00", "2026-12-07 00:00:00–00:00:10",
            ]
        )
    }

    @Test func aTableWithoutWindowsIsLeftAsItIs() {
        let table = ReportTable(columns: [.init(name: "table", kind: .text)], rows: [["a"]])
        #expect(ReportFit.fit(table).note == nil && ReportFit.fit(table).table.rows == [["a"]])
    }
}
