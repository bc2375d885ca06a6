import Testing

@testable import Daybook

/// What the query layer accepts before SQL sees it: dates in the report's contract only (not
/// whatever PostgreSQL's lenient parser reads), keys PostgreSQL can compare, cursors of ours.
struct ReportInputTests {
    @Test func momentsAreTheContractsOnly() {
        for good in [
            "today", "yesterday", "2026-12-05", "2024-02-29", "2026-12-05T08:00", "2026-12-05T08:00:00Z",
            "2026-12-05 08:00:00+00", "2026-12-05 08:00:00.123456+00", "2026-12-05T08:00:00-05:30",
            "2026-12-05T08:00:00+0530",
            "2026-12-05T23:59:59.5+15:59", "-infinity", "infinity", "tomorrow", "2016-12-31T23:59:60Z",
        ] {
            #expect(ReportInput.isMoment(good), "\(good)")
        }
        for bad in [
            "epoch", "J2461011", "yesterday'", "Yesterday", "now", "2026-13-01", "2026-02-30", "2025-02-29",
            "2026-12-5",
            "26-12-05", "2026-12-05T24:00:00Z", "2026-12-05T08:60", "2026-12-05T08:00:61", "2026-12-05t08:00:00z",
            "2026-12-05T08:00:00+16:00",
            "2026-12-05T08:00:00.1234567Z", "2026-12-05T08:00:00.Z", "2026-12-05 allballs", "Infinity", "+infinity",
            "2026-12-05T08:00:00Z ", " 2026-12-05", "0000-01-01", "2026-12-05T08:00:00+00:00:00", "",
        ] {
            #expect(!ReportInput.isMoment(bad), "\(bad)")
        }
        #expect(ReportInput.isTimestamp("2026-12-05 08:00:00+00") && !ReportInput.isTimestamp("2026-12-05"))
    }

    @Test func keysAreObjectsPostgreSQLCanRead() {
        for good in [
            #"{"id":"42"}"#, #"{"a":1,"b":"x"}"#, #"{"name":"\u00df"}"#, #"{"e":"\ud83d\ude00"}"#, #"{"q":"a\"b"}"#,
        ] {
            #expect(ReportInput.isKeyObject(good), "\(good)")
        }
        for bad in [
            #"{"id":"\u0000"}"#, #"{"id":"\ud800"}"#, #"{"id":"\udc00"}"#, #"{"id":"\ud800x"}"#,
            #"{"id":"\ud800\u0041"}"#,
            "[1]", "42", "not json", "", #"{"id":}"#,
        ] {
            #expect(!ReportInput.isKeyObject(bad), "\(bad)")
        }
        // The API says 404 for text that names no key, 400 for an object PostgreSQL cannot read.
        #expect(Report.namesNoKey("{0}") && Report.namesNoKey("[1]") && !Report.namesNoKey(#"{"id":"1"}"#))
        #expect(!Report.namesNoKey(#"{"id":"\u0000"}"#) && !Report.namesNoKey(#"{"id":"\ud800"}"#))
    }

    @Test func everyValueIsCheckedBeforeSQL() {
        func refused(_ change: (inout Report.Request) -> Void) -> String? {
            var request = Report.Request()
            change(&request)
            do { try ReportInput.check(request) } catch {
                return error.code == .invalidArgument ? error.message : "\(error.code)"
            }
            return nil
        }
        #expect(refused { $0.date = "yesterday" } == nil)
        #expect(refused { $0.date = "infinity" } != nil, "a day, not an open end")
        #expect(
            refused {
                $0.from = "2026-12-01"
                $0.to = "2026-12-05T00:00:00Z"
            } == nil
        )
        #expect(refused { $0.table = "app.items\u{0}" }?.contains("NUL") == true)
        #expect(refused { $0.from = "epoch" }?.contains("cannot read from 'epoch'") == true)
        #expect(
            refused { $0.date = "2026-12-05T10:00:00Z" }?.contains("cannot read '2026-12-05T10:00:00Z' as a date")
                == true
        )
        #expect(refused { $0.windowStart = "2026-02-30" } != nil)
        #expect(refused { $0.key = #"{"id":"\u0000"}"# }?.contains("not a JSON object") == true)
        let good = Report.KeyCursor(
            windowStart: "2026-12-01 00:00:00+00",
            table: "app.t",
            firstChangeAt: "2026-12-01 10:00:00.5+00",
            key: #"{"id":"1"}"#
        )
        #expect(refused { $0.after = good } == nil)
        for tampered in [
            Report.KeyCursor(
                windowStart: "not a date",
                table: "app.t",
                firstChangeAt: good.firstChangeAt,
                key: good.key
            ),
            Report.KeyCursor(windowStart: good.windowStart, table: "app.t", firstChangeAt: "", key: good.key),
            Report.KeyCursor(
                windowStart: good.windowStart,
                table: "app.t",
                firstChangeAt: "2026-13-01 00:00:00+00",
                key: good.key
            ),
            Report.KeyCursor(
                windowStart: "2026-12-01",
                table: "app.t",
                firstChangeAt: good.firstChangeAt,
                key: good.key
            ),
            Report.KeyCursor(
                windowStart: good.windowStart,
                table: "app.t\u{0}",
                firstChangeAt: good.firstChangeAt,
                key: good.key
            ),
            Report.KeyCursor(
                windowStart: good.windowStart,
                table: "app.t",
                firstChangeAt: good.firstChangeAt,
                key: "{"
            ),
        ] {
            #expect(refused { $0.after = tampered } != nil, "\(tampered)")
        }
    }
}
