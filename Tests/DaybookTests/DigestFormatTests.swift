import Foundation
import Testing
import Windowing

@testable import DaybookCore

/// The digest's renderings from a value, no server: what each format promises (100 columns,
/// escaping, no script in HTML, JSON that reads back the same).
struct DigestFormatTests {
    /// A day with something of every kind, and names and keys long and hostile enough to
    /// break a careless renderer.
    private func digest() -> Digest {
        var figure = VolumeRule.FigureVerdict(
            figure: .deletes,
            value: 12_000,
            expected: 10...30,
            isUnusual: true,
            basis: .weekday,
            points: 4
        )
        let unusualDeletes = Digest.Figure(figure)
        figure.figure = .inserts
        figure.value = 20
        figure.isUnusual = false
        let usualInserts = Digest.Figure(figure)
        let longName = "reporting_" + String(repeating: "x", count: 60) + ".<script>alert(1)</script>|*_"
        let tables = [
            Digest.Table(
                table: "app.orders",
                inserts: 20,
                updates: 0,
                deletes: 12_000,
                truncates: 0,
                verdict: .unusual,
                figures: [usualInserts, unusualDeletes],
                historyWindows: 28,
                historyNeeded: 7,
                topKeys: [
                    Digest.KeyChanges(
                        key: .object(["id": .string(String(repeating: "9", count: 150))]),
                        changes: 3
                    )
                ]
            ),
            Digest.Table(
                table: longName,
                inserts: 1_234_567,
                updates: 0,
                deletes: 0,
                truncates: 0,
                verdict: .notEnoughHistory,
                figures: [],
                historyWindows: 3,
                historyNeeded: 7
            ),
            Digest.Table(
                table: "app.feed",
                inserts: 0,
                updates: 0,
                deletes: 0,
                truncates: 0,
                verdict: .silent,
                figures: [],
                historyWindows: 28,
                historyNeeded: 7
            ),
        ]
        var headline = Digest.Headline(
            changes: 1_246_587,
            tablesChanged: 2,
            unusual: ["app.orders"],
            silent: ["app.feed"],
            massChanges: [
                .init(table: "app.sessions", kind: .truncate, count: 1),
                .init(table: "app.orders", kind: .massDelete, count: 12_000, share: 0.6),
            ],
            schemaChanged: ["app.items"],
            lateChanges: 2
        )
        headline.openWindows = [.init(start: "2026-12-04T00:00:00+01:00", closesAt: "2026-12-05T00:30:00+01:00")]
        var window = Digest.WindowState(
            start: "2026-12-05T00:00:00+01:00",
            end: "2026-12-06T00:00:00+01:00",
            state: .closed
        )
        window.closedAt = "2026-12-06T00:30:02+01:00"
        window.closedBy = "heartbeat"
        return Digest(
            date: "2026-12-05",
            slots: [
                Digest.Slot(
                    slot: "daybook",
                    timeZone: "Europe/Berlin",
                    window: window,
                    headline: headline,
                    tables: tables,
                    schemaChanges: [
                        Digest.SchemaChangeNote(
                            table: "app.items",
                            lsn: "0/1A6FDC8",
                            commitTime: "2026-12-05T10:00:00+01:00",
                            change: "column_retyped",
                            column: "price",
                            from: "integer",
                            to: "bigint"
                        )
                    ],
                    incomplete: [],
                    rule: Digest.RuleSettings(VolumeRule(), massDeletes: MassDeleteRule())
                )
            ]
        )
    }

    @Test func textFitsOneHundredColumnsAndLeadsWithTruncatesAndMassDeletes() {
        let text = DigestFormat.text.render(digest())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines.filter { $0.count > 100 })")
        let headline = lines.filter { $0.hasPrefix("  * ") }
        #expect(headline.first == "  * TRUNCATE: app.sessions (1 time)")
        #expect(headline.dropFirst().first == "  * Mass delete: app.orders, 12,000 rows, 60% of the table")
        #expect(text.contains("  * Unusual: app.orders: deletes 12,000, usual 10–30"))
        #expect(text.contains("  * Silent: app.feed"))
        #expect(text.contains("app.items: column price retyped from integer to bigint"))
        #expect(text.contains("1,234,567"))
        let joined = text.split(separator: "\n").joined(separator: " ")
        #expect(joined.contains("closed 2026-12-06T00:30:02+01:00 by heartbeat: final figures"))
        #expect(joined.contains("Still open: the window of 2026-12-04T00:00:00+01:00"))
    }

    @Test func aQuietDaySaysNothingUnusual() {
        var quiet = digest()
        quiet.slots[0].headline = Digest.Headline(changes: 10, tablesChanged: 1)
        quiet.slots[0].schemaChanges = []
        #expect(DigestFormat.text.render(quiet).contains("  * Nothing unusual."))
    }

    @Test func markdownEscapesWhatWouldBeMarkup() {
        let markdown = DigestFormat.markdown.render(digest())
        #expect(markdown.contains("\\<script\\>alert(1)\\</script\\>\\|\\*\\_"))
        #expect(markdown.contains("| app.orders | 20 | 0 | 12,000 | 0 | unusual: deletes 12,000"))
        #expect(markdown.contains("- TRUNCATE: app.sessions (1 time)"))
    }

    @Test func markdownValuesNeverStartALineOrHideMarkup() {
        // A line break of either kind, a bracket with a combining mark, a backtick in a key.
        let hostile = "app.x\r\n- [click](http://example.com)\r[\u{0301}y](z)"
        var value = digest()
        value.slots[0].tables[0].table = hostile
        value.slots[0].tables[0].topKeys = [
            Digest.KeyChanges(key: .object(["id": .string("`![](http://t)`")]), changes: 1)
        ]
        let markdown = DigestFormat.markdown.render(value)
        #expect(!markdown.split(separator: "\n").contains { $0.hasPrefix("- [") || $0.hasPrefix("[") })
        // Every bracket and backtick that came from a value is escaped: no link, no code span.
        let scalars = Array(markdown.unicodeScalars)
        for (index, scalar) in scalars.enumerated() where "[]`".unicodeScalars.contains(scalar) {
            #expect(index > 0 && scalars[index - 1] == "\\", "unescaped \(scalar) in \(markdown)")
        }
    }

    @Test func textRowsFitWithFiguresOfTensOfMillions() {
        var value = digest()
        value.slots[0].tables[1].inserts = 123_456_789_012
        value.slots[0].tables[1].updates = 98_765_432
        let lines = DigestFormat.text.render(value).split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines.filter { $0.count > 100 })")
        #expect(lines.contains { $0.contains("123,456,789,012") })
    }

    @Test func htmlIsOneDocumentWithInlineStylesAndEverythingEscaped() {
        let html = DigestFormat.html.render(digest())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<style") && !html.contains("<link") && !html.contains("src="))
        #expect(!html.contains("class="), "mail clients drop style sheets: styles are inline")
        #expect(html.contains("Mass delete: app.orders, 12,000 rows, 60% of the table"))
    }

    @Test func jsonReadsBackTheSameAndIsVersioned() throws {
        let value = digest()
        let json = DigestFormat.json.render(value)
        #expect(json.hasPrefix("{\"date\":\"2026-12-05\",\"digest_version\":1,"))
        #expect(json.contains("\"mass_changes\":[{\"count\":1,\"kind\":\"truncate\",\"table\":\"app.sessions\"}"))
        #expect(json.contains("\"verdict\":\"not_enough_history\""))
        #expect(json.contains("\"key\":{\"id\":"))
        let decoded = try #require(DaybookJSON.decode(Digest.self, from: json))
        #expect(decoded == value)
        // One line: a file of nights is one digest per line.
        #expect(json.split(separator: "\n").count == 1)
    }

    @Test func massDeletesAreMeasuredAgainstTheTableBeforeTheWindow() {
        let rule = MassDeleteRule()
        // 600 deleted, 400 left: 60% of the table.
        #expect(rule.share(deletes: 600, inserts: 0, rowsAfter: 400) == 0.6)
        #expect(rule.isMassDelete(deletes: 600, inserts: 0, rowsAfter: 400))
        // Inserts of the day do not count as rows before it.
        #expect(rule.share(deletes: 100, inserts: 500, rowsAfter: 900) == 0.2)
        // Small tables and small deletes are not news; a table without an estimate is not judged.
        #expect(!rule.isMassDelete(deletes: 50, inserts: 0, rowsAfter: 0))
        #expect(!rule.isMassDelete(deletes: 150, inserts: 0, rowsAfter: 10_000))
        #expect(!rule.isMassDelete(deletes: 5_000, inserts: 0, rowsAfter: nil))
        #expect(rule.share(deletes: 0, inserts: 0, rowsAfter: 10) == nil)
        // An estimate lower than what the deletes imply (autovacuum behind) never gives more than all.
        #expect(rule.share(deletes: 500, inserts: 800, rowsAfter: 0) == 1)
    }

    @Test func timestampsAreToTheSecondWithTheZonesOffset() throws {
        let time = Timestamp(microsecondsSinceEpoch: 1_764_975_600_999_999)  // 2025-12-05T23:00:00.999999Z
        #expect(time.iso8601(in: try #require(TimeZone(identifier: "UTC"))) == "2025-12-05T23:00:00+00:00")
        #expect(time.iso8601(in: try #require(TimeZone(identifier: "Europe/Berlin"))) == "2025-12-06T00:00:00+01:00")
        #expect(time.iso8601(in: try #require(TimeZone(identifier: "America/St_Johns"))) == "2025-12-05T19:30:00-03:30")
        let beforeEpoch = Timestamp(microsecondsSinceEpoch: -1)
        #expect(beforeEpoch.iso8601(in: try #require(TimeZone(identifier: "UTC"))) == "1969-12-31T23:59:59+00:00")
    }
}
