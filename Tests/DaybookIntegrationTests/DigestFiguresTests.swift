import Daybook
import DaybookCore
import DaybookTestSupport
import Foundation
import Testing
import Windowing

/// The digest's figures from a real sink: thirty closed days written as the service writes
/// them, then the day being judged.
struct DigestFiguresTests {
    /// Midnight UTC of day `day` after 2026-11-01 (a Sunday), in microseconds.
    private func midnight(_ day: Int) -> Int64 { (1_793_491_200 + Int64(day) * 86_400) * 1_000_000 }

    @Test func aSpikeASilenceAndANewTableAgainstThirtyDays() throws {
        let database = try TestDatabase("digest")
        let migrated = try DaybookProcess.run(["migrate"], environment: ["DAYBOOK_DATABASE": database.connectionString])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let sql = database.connection
        // app.orders: about 1,000 inserts and 100 deletes a day; app.audit: 500 updates a day
        // but for a day without any change (day 12: no row at all); app.archive: Mondays only.
        for day in 0..<30 {
            guard day != 12 else { continue }
            try sql.query(
                """
                INSERT INTO daybook.windows (slot_name, window_start, window_end, closes_at, status)
                VALUES ('s', daybook.from_micros($1::bigint), daybook.from_micros($2::bigint),
                        daybook.from_micros($2::bigint), 'closed')
                """,
                [String(midnight(day)), String(midnight(day + 1))]
            )
            var tables = [("app.orders", 1_000 + day % 3 * 20, 0, 100), ("app.audit", 0, 500, 0)]
            if day % 7 == 1 { tables.append(("app.archive", 5_000, 0, 0)) }
            for (table, inserts, updates, deletes) in tables {
                try sql.query(
                    """
                    INSERT INTO daybook.table_windows (slot_name, window_start, window_end, table_name, inserts, updates,
                                                       deletes, first_change_at, last_change_at)
                    VALUES ('s', daybook.from_micros($1::bigint), daybook.from_micros($2::bigint), $3, $4, $5, $6,
                            daybook.from_micros($1::bigint), daybook.from_micros($1::bigint))
                    """,
                    [
                        String(midnight(day)), String(midnight(day + 1)), table, String(inserts), String(updates),
                        String(deletes),
                    ]
                )
            }
        }
        // Day 30 (a Tuesday): orders deletes ten times the usual, audit silent, a new table.
        try sql.query(
            """
            INSERT INTO daybook.table_windows (slot_name, window_start, window_end, table_name, inserts, deletes,
                                               first_change_at, last_change_at)
            VALUES ('s', daybook.from_micros($1::bigint), daybook.from_micros($2::bigint), 'app.orders', 1000, 1000,
                    now(), now()),
                   ('s', daybook.from_micros($1::bigint), daybook.from_micros($2::bigint), 'app.coupons', 40, 0,
                    now(), now())
            """,
            [String(midnight(30)), String(midnight(31))]
        )
        let figures = try DigestFigures.read(
            slot: "s",
            windowStart: Timestamp(microsecondsSinceEpoch: midnight(30)),
            calendar: WindowCalendar(length: .days(1), timeZone: TimeZone(identifier: "UTC")!),
            rule: VolumeRule(),
            on: sql
        )
        let verdicts = Dictionary(uniqueKeysWithValues: figures.tables.map { ($0.name, $0.verdict) })
        #expect(figures.tables.map(\.name) == ["app.archive", "app.audit", "app.coupons", "app.orders"])
        #expect(verdicts["app.coupons"] == .new)
        // 27 of 28 days (day 12 had no change at all, and counts as a day without).
        #expect(verdicts["app.audit"] == .silent(changedIn: 27, of: 28))
        guard case .judged(let orders)? = verdicts["app.orders"] else {
            Issue.record("app.orders not judged: \(String(describing: verdicts["app.orders"]))")
            return
        }
        #expect(orders.filter(\.isUnusual).map(\.figure) == [.deletes])
        #expect(orders.first { $0.figure == .deletes }?.basis == .weekday)
        // A Tuesday without the Monday batch: archive's usual Tuesday is nothing.
        #expect(verdicts["app.archive"]?.isUnusual == false)
        #expect(figures.tables.first { $0.name == "app.orders" }?.history.count == 28)
    }
}
