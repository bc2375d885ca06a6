import Testing

@testable import Daybook
@testable import DaybookHTTP

/// The dashboard's pure parts: escaping, why a window is open, the cursor's round trip.
struct DashboardPagesTests {
    @Test func sinkTextIsEscaped() {
        #expect(
            HTML.escape("<script>\"a\" & 'b'</script>")
                == "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        )
        // Invisible characters show as escapes: U+202E would show "gpj.exe" as "exe.jpg".
        #expect(HTML.escape("a\u{202E}gpj.exe") == "a\\u202egpj.exe")
        #expect(HTML.escape("bell\u{07}\u{0}\ttab\nline\u{2028}") == "bell\\u0007\\u0000\\u0009tab\\u000aline\\u2028")
        #expect(HTML.escape("ß, 日本, 🙂") == "ß, 日本, 🙂")
        #expect(HTML.query("{\"id\":\"1 2\"}") == "%7B%22id%22%3A%221%202%22%7D")
    }

    private func status(streamTime: String?, warnings: [String] = []) -> Status {
        var status = Status(slot: "s")
        status.checkpoint = Status.Checkpoint(
            lsn: "0/1",
            writtenAt: nil,
            streamTime: streamTime,
            windowLength: "1d",
            grace: "00:30:00",
            timeZone: "UTC",
            lastHeartbeatAt: nil,
            lastHeartbeatAge: nil
        )
        status.warnings = warnings
        return status
    }

    @Test func theOverviewShowsEachDestinationAndHowItsDeliveriesStand() {
        var status = status(streamTime: "2026-12-07T05:00:00+00:00")
        status.destinations = [
            DestinationStatus(
                name: "team",
                kind: .webhook,
                target: "https://hooks.example.com/…",
                slot: "s",
                onlyUnusual: false,
                pending: 2,
                failed: 1,
                delivered: 5,
                skipped: 0,
                lastDeliveredWindow: "2026-12-04T00:00:00+00:00",
                lastDeliveredAt: nil,
                lastError: "HTTP 500: <b>down</b>",
                oldestPendingSince: "2026-12-06T00:30:00+00:00",
                oldestPendingAgeSeconds: 3600,
                attempts: [:]
            )
        ]
        let html = DashboardPages.overview(
            Dashboard.Overview(status: status, windows: [], tables: [], lag: []),
            mode: "streaming"
        )
        #expect(html.contains("<section id=\"deliveries\">"))
        #expect(html.contains("<tr data-destination=\"team\">"))
        #expect(html.contains("https://hooks.example.com/…"))
        #expect(html.contains("2 (since 2026-12-06T00:30:00+00:00)"))
        #expect(html.contains("HTTP 500: &lt;b&gt;down&lt;/b&gt;"), "the receiver's answer is escaped")
        // No destination, no section.
        #expect(
            !DashboardPages.overview(
                Dashboard.Overview(status: self.status(streamTime: nil), windows: [], tables: [], lag: []),
                mode: "streaming"
            ).contains("deliveries")
        )
    }

    @Test func aWindowSaysWhyItIsStillOpen() {
        let window = Status.OpenWindow(
            windowStart: "2026-12-01T00:00:00+00:00",
            windowEnd: "2026-12-02T00:00:00+00:00",
            closesAt: "2026-12-02T00:30:00+00:00",
            streamTimeUntilClose: nil
        )
        let inside = DashboardPages.whyOpen(window, status: status(streamTime: "2026-12-01T23:00:00+00:00"))
        #expect(inside.contains("still inside the window, 1 h before its end"), "\(inside)")
        let stale = DashboardPages.whyOpen(
            window,
            status: status(
                streamTime: "2026-12-01T23:00:00+00:00",
                warnings: ["warning: no heartbeat has reached the stream"]
            )
        )
        #expect(stale.contains("heartbeats are not arriving"), "\(stale)")
        let grace = DashboardPages.whyOpen(window, status: status(streamTime: "2026-12-02T00:10:00+00:00"))
        #expect(grace.contains("waiting out the grace period, 20 min of stream time to go"), "\(grace)")
        let due = DashboardPages.whyOpen(window, status: status(streamTime: "2026-12-02T00:31:00+00:00"))
        #expect(due.contains("due"), "\(due)")
        #expect(
            DashboardPages.whyOpen(window, status: Status(slot: "s"))
                == "It closes when stream time reaches 2026-12-02T00:30:00+00:00."
        )
    }

    @Test func cursorsRoundTripAndStrangersAreRefused() throws {
        let cursor = Report.KeyCursor(
            windowStart: "2026-12-01 00:00:00+00",
            table: "app.orders",
            firstChangeAt: "2026-12-01 10:00:00.123456+00",
            key: "{\"id\":\"42\",\"name\":\"ß/+\"}"
        )
        let text = KeyCursorText.encode(cursor)
        #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
        #expect(try KeyCursorText.decode(text) == cursor)
        #expect(throws: APIError.self) { try KeyCursorText.decode("bm90LW91cnM") }
        #expect(throws: APIError.self) { try KeyCursorText.decode("!!") }
    }

    @Test func durationsReadEasily() {
        #expect(DashboardPages.format(seconds: 42) == "42 s")
        #expect(DashboardPages.format(seconds: 600) == "10 min")
        #expect(DashboardPages.format(seconds: 7_300) == "2 h 01 min")
        #expect(DashboardPages.format(seconds: 3 * 86_400) == "3 d")
    }

    @Test func momentsShowTheTimeOfDayAndTheirAgeWithTheFullMomentOnHover() {
        var status = status(streamTime: "2026-12-06T02:14:29+00:00")
        status.sourceClock = "2026-12-06T02:14:35+00:00"
        status.checkpoint?.lastHeartbeatAt = "2026-12-06T02:14:29+00:00"
        status.checkpoint?.lastHeartbeatAge = "00:00:06"
        let html = DashboardPages.overview(
            Dashboard.Overview(status: status, windows: [], tables: [], lag: []),
            mode: "streaming"
        )
        #expect(
            html.contains(#"<div class="value" title="2026-12-06T02:14:29+00:00">02:14:29, 6 s ago</div>"#),
            "\(html)"
        )
        #expect(html.contains(#"title="2026-12-06T02:14:35+00:00">02:14:35 (6 s ahead of stream time)</div>"#))
        #expect(!html.contains(">2026-12-06T02:14"), "no raw timestamp is shown as a card's value")
        // The lag chart's axis says how far back it reaches, in the same form.
        let lag = DashboardCharts.lag([(time: 0, seconds: 0.1, bytes: 0), (time: 40, seconds: 0.2, bytes: 0)])
        #expect(lag.contains(">40 s ago</text>") && lag.contains(">now</text>"))
        // The windows chart has a scale: its maximum, half of it and zero.
        let days = DashboardCharts.days(
            [.init(label: "2026-12-05T00:00:00+00:00", status: "closed", closedBy: "heartbeat", counts: [("t", 40)])],
            tables: ["t"]
        )
        #expect(days.contains(">40 changes</text>") && days.contains(">20</text>") && days.contains(">0</text>"))
    }
}
