import Daybook
import DaybookCore
import Foundation
import HTTPTypes

/// The dashboard's HTML, from values to text: pure functions, every sink value escaped.
enum DashboardPages {
    static let fragmentHeader = HTTPField.Name("X-Daybook-Fragment")!

    static func layout(title: String, slot: String, mode: String, main: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title)) · \(HTML.escape(slot))</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/assets/dashboard.css">
        <script src="/assets/dashboard.js" defer></script>
        </head>
        <body>
        <header><h1><a href="/">Daybook</a></h1><span>slot <b>\(HTML.escape(slot))</b></span>
        <a href="/digest">Digest</a>
        <span class="muted">\(HTML.escape(mode))</span><span class="muted" id="updated"></span></header>
        <div id="connection" role="status"></div>
        <main id="live" data-refresh="5">
        \(main)
        </main>
        <noscript><p class="muted">JavaScript is off: reload to refresh.</p></noscript>
        </body>
        </html>
        """
    }

    static func problem(_ message: String) -> String {
        "<section><h2 class=\"bad\">Not available</h2><p id=\"problem\">\(HTML.escape(message))</p></section>"
    }

    // MARK: Overview

    static func overview(_ data: Dashboard.Overview, mode: String) -> String {
        let status = data.status
        var html = ""
        html += now(status)
        html += openWindows(status, tables: data.tables)
        if !status.warnings.isEmpty {
            html += "<section><h2>Warnings</h2><ul class=\"warnings\">"
            html += status.warnings.map { "<li>\(HTML.escape($0))</li>" }.joined()
            html += "</ul></section>"
        }
        if !status.gaps.isEmpty {
            html += "<section id=\"gaps\"><h2>Gaps</h2><ul class=\"warnings\">"
            html += status.gaps.map { "<li>\(HTML.escape($0.sentence))</li>" }.joined()
            html += "</ul></section>"
        }
        html += deliveries(status.destinations)
        html += "<section id=\"lag\"><h2>Slot lag, last hour</h2>"
        html += DashboardCharts.lag(data.lag.map { (time: $0.time, seconds: $0.seconds, bytes: $0.bytes) })
        if let last = data.lag.last {
            html +=
                "<p class=\"muted\">now \(format(seconds: last.seconds)) behind, \(bytes(last.bytes)) of WAL not yet confirmed</p>"
        }
        html += "</section>"
        html += days(data.windows, tables: data.tables)
        return html
    }

    /// Where closed days go and how that stands: the first thing to look at when a digest did
    /// not arrive.
    private static func deliveries(_ destinations: [DestinationStatus]) -> String {
        guard !destinations.isEmpty else { return "" }
        var html =
            "<section id=\"deliveries\"><h2>Deliveries</h2><div class=\"scroll\"><table class=\"tables\"><thead><tr>"
        html +=
            "<th>Destination</th><th>To</th><th>Last delivered</th><th>Pending</th><th>Failed</th><th>Last error</th>"
        html += "</tr></thead><tbody>"
        for destination in destinations {
            let pending =
                "\(destination.pending)"
                + (destination.oldestPendingSince.map { " (since \($0))" } ?? "")
            html += "<tr data-destination=\"\(HTML.escape(destination.name))\">"
            html +=
                "<td>\(HTML.escape(destination.name)) <span class=\"muted\">\(destination.kind.rawValue)</span></td>"
            html += "<td>\(HTML.escape(destination.target))</td>"
            html += "<td>\(HTML.escape(destination.lastDeliveredWindow ?? "none yet"))</td>"
            html += "<td class=\"\(destination.pending > 0 ? "warn" : "")\">\(HTML.escape(pending))</td>"
            html += "<td class=\"\(destination.failed > 0 ? "bad" : "")\">\(destination.failed)</td>"
            html += "<td>\(HTML.escape(destination.lastError ?? ""))</td></tr>"
        }
        return html + "</tbody></table></div></section>"
    }

    private static func now(_ status: Status) -> String {
        // (label, what the card says, its id, the full value on hover)
        var cards: [(String, String, String?, String?)] = []
        let stream = status.checkpoint?.streamTime
        let clock = status.sourceClock
        if let stream {
            let age = clock.flatMap { seconds(between: stream, and: $0) }.map { ", \(format(seconds: max(0, $0))) ago" }
            cards.append(("Stream time", timeOfDay(stream) + (age ?? ""), "stream-time", stream))
        } else {
            cards.append(("Stream time", "none yet", "stream-time", nil))
        }
        if let clock {
            var text = timeOfDay(clock)
            if let stream, let behind = seconds(between: stream, and: clock) {
                text += " (\(format(seconds: max(0, behind))) ahead of stream time)"
            }
            cards.append(("Source clock", text, "source-clock", clock))
        } else if let error = status.sourceError {
            cards.append(("Source", "unavailable: \(error)", "source-clock", nil))
        }
        if let at = status.checkpoint?.lastHeartbeatAt {
            let age = status.checkpoint?.lastHeartbeatAge.flatMap { HumanDuration.text(interval: $0) } ?? "?"
            cards.append(("Last heartbeat in the stream", "\(timeOfDay(at)), \(age) ago", "last-heartbeat", at))
        } else {
            cards.append(("Last heartbeat in the stream", "none yet", "last-heartbeat", nil))
        }
        if let slot = status.replicationSlot {
            cards.append(
                (
                    "Slot",
                    slot.exists ? "\(slotActivity(slot)), retaining \(slot.retainedWal ?? "?") of WAL" : "missing",
                    "slot", nil
                )
            )
        }
        cards.append(
            (
                "Windows",
                "\(status.openWindows.count) open, \(status.closingWindows.count) closing, \(status.closedWindows) closed",
                "window-counts", nil
            )
        )
        var html = "<section id=\"now\"><h2>Now</h2><div class=\"cards\">"
        for (label, value, id, full) in cards {
            html +=
                "<div class=\"card\"\(id.map { " id=\"\($0)\"" } ?? "")><div class=\"label\">\(HTML.escape(label))</div>"
            let title = full.map { " title=\"\(HTML.escape($0))\"" } ?? ""
            html += "<div class=\"value\"\(title)>\(HTML.escape(value))</div></div>"
        }
        return html + "</div></section>"
    }

    /// Who reads the slot: the stream, a backlog read through SQL decoding, or nobody.
    private static func slotActivity(_ slot: Status.ReplicationSlot) -> String {
        switch slot.readMode {
        case "backlog": "reading a backlog (backlog mode)"
        case "streaming": "streaming"
        default: slot.active == true ? "active" : "inactive"
        }
    }

    /// Each open window, its live counts per table, when it closes and why it has not yet.
    private static func openWindows(_ status: Status, tables: [[String: String]]) -> String {
        var html = "<section id=\"open\"><h2>Open windows</h2>"
        guard !status.openWindows.isEmpty else {
            return html + "<p class=\"empty\">None: every window with changes has closed.</p></section>"
        }
        for window in status.openWindows {
            html += "<h3>[\(HTML.escape(window.windowStart)), \(HTML.escape(window.windowEnd)))</h3>"
            html += "<p class=\"why\">\(HTML.escape(whyOpen(window, status: status)))</p>"
            let rows = tables.filter { $0["window_start"] == window.windowStart }
            html += tableCounts(rows, start: window.windowStart)
        }
        return html + "</section>"
    }

    /// Why a window is still open, from stream time against its end and its close time.
    static func whyOpen(_ window: Status.OpenWindow, status: Status) -> String {
        let closes = "It closes when stream time reaches \(window.closesAt)"
        guard let stream = status.checkpoint?.streamTime,
            let toEnd = seconds(between: stream, and: window.windowEnd),
            let toClose = seconds(between: stream, and: window.closesAt)
        else { return closes + "." }
        let heartbeatsStale = status.warnings.contains { $0.contains("heartbeat") }
        if toEnd > 0 {
            return closes
                + ": stream time is still inside the window, \(format(seconds: toEnd)) before its end; it moves with changes and heartbeats"
                + (heartbeatsStale ? ", and heartbeats are not arriving (see warnings)." : ".")
        }
        if toClose > 0 {
            return closes + ": waiting out the grace period, \(format(seconds: toClose)) of stream time to go"
                + (heartbeatsStale ? "; heartbeats are not arriving, so only changes move it (see warnings)." : ".")
        }
        return closes + ": it is due and closes with the next checkpoint."
    }

    private static func tableCounts(_ rows: [[String: String]], start: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">No changes yet.</p>" }
        var html = "<div class=\"scroll\"><table class=\"tables\"><thead><tr><th>table</th>"
        let numbers = ["inserts", "updates", "deletes", "truncates", "transactions", "keys", "late"]
        html += numbers.map { "<th class=\"n\">\($0)</th>" }.joined() + "<th>level</th></tr></thead><tbody>"
        for row in rows {
            let table = row["table"] ?? "?"
            html +=
                "<tr data-table=\"\(HTML.escape(table))\"><td><a href=\"/windows/\(HTML.escape(HTML.query(start)))#\(HTML.escape(HTML.query(table)))\">\(HTML.escape(table))</a></td>"
            html += numbers.map { "<td class=\"n\" data-column=\"\($0)\">\(HTML.escape(row[$0] ?? ""))</td>" }.joined()
            html += "<td>\(HTML.escape(row["levels"] ?? ""))</td></tr>"
        }
        return html + "</tbody></table></div>"
    }

    /// The last windows as a chart of changes per table, and the same as a table.
    private static func days(_ windows: [[String: String]], tables rows: [[String: String]]) -> String {
        var tableNames: [String] = []
        for row in rows where !tableNames.contains(row["table"] ?? "") { tableNames.append(row["table"] ?? "") }
        let days = windows.map { window in
            DashboardCharts.Day(
                label: window["window_start"] ?? "",
                status: window["status"] ?? "",
                closedBy: window["closed_by"],
                counts: tableNames.map { table in
                    let row = rows.first { $0["window_start"] == window["window_start"] && $0["table"] == table }
                    let count = ["inserts", "updates", "deletes", "truncates"].reduce(0) {
                        $0 + (Int(row?[$1] ?? "") ?? 0)
                    }
                    return (table, count)
                }
            )
        }
        var html = "<section id=\"days\"><h2>Last \(Dashboard.windowsShown) windows</h2>"
        html += DashboardCharts.days(days, tables: tableNames)
        html += "<ul class=\"legend\">"
        for (index, table) in tableNames.enumerated() {
            html +=
                "<li><svg width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\" fill=\"\(DashboardCharts.palette[index % DashboardCharts.palette.count])\"/></svg> \(HTML.escape(table))</li>"
        }
        html += "</ul><div class=\"scroll\"><table class=\"windows\"><thead><tr><th>window</th><th>state</th>"
        html +=
            tableNames.map { "<th class=\"n\">\(HTML.escape($0))</th>" }.joined()
            + "<th class=\"n\">changes</th></tr></thead><tbody>"
        for (window, day) in zip(windows, days).reversed() {
            let start = window["window_start"] ?? ""
            var state =
                window["status"] == "closed" ? "closed by \(window["closed_by"] ?? "?")" : (window["status"] ?? "")
            let incomplete = window["incomplete"] == "true"
            if incomplete { state += ", incomplete (a gap: see Gaps)" }
            html +=
                "<tr data-window=\"\(HTML.escape(start))\" data-status=\"\(HTML.escape(window["status"] ?? ""))\"\(incomplete ? " data-incomplete" : "")>"
            html += "<td><a href=\"/windows/\(HTML.escape(HTML.query(start)))\">\(HTML.escape(start))</a></td>"
            html +=
                "<td class=\"\(window["status"] == "closed" && !incomplete ? "ok" : "warn")\">\(HTML.escape(state))</td>"
            html += day.counts.map { "<td class=\"n\">\($0.count)</td>" }.joined()
            html += "<td class=\"n\" data-column=\"changes\">\(HTML.escape(window["changes"] ?? ""))</td></tr>"
        }
        return html + "</tbody></table></div></section>"
    }

    // MARK: Window and key

    static func window(start: String, _ detail: Dashboard.WindowDetail) -> String {
        var html = "<section><h2>Window starting \(HTML.escape(start))</h2>"
        if let notice = detail.notice { html += "<p class=\"warn\">\(HTML.escape(notice))</p>" }
        html += tableCounts(detail.tables, start: start) + "</section>"
        var tables: [String] = []
        for row in detail.topKeys where !tables.contains(row["table"] ?? "") { tables.append(row["table"] ?? "") }
        html += "<section id=\"top-keys\"><h2>Most-changed keys</h2>"
        if tables.isEmpty { html += "<p class=\"empty\">No per-key rows (tables at counts, or pruned).</p>" }
        for table in tables {
            html +=
                "<h3 id=\"\(HTML.escape(HTML.query(table)))\">\(HTML.escape(table))</h3><div class=\"scroll\"><table><thead><tr>"
            html += "<th>key</th><th>ops</th><th>net</th><th>first change</th><th>last change</th></tr></thead><tbody>"
            for row in detail.topKeys where row["table"] == table {
                let key = row["key"] ?? ""
                let link = "/windows/\(HTML.query(start))/key?table=\(HTML.query(table))&key=\(HTML.query(key))"
                html += "<tr><td><a href=\"\(HTML.escape(link))\"><code>\(HTML.escape(key))</code></a></td>"
                html +=
                    "<td><code>\(HTML.escape(row["ops"] ?? ""))</code></td><td>\(HTML.escape(row["net"] ?? ""))</td>"
                html +=
                    "<td>\(HTML.escape(row["first_change_at"] ?? ""))</td><td>\(HTML.escape(row["last_change_at"] ?? ""))</td></tr>"
            }
            html += "</tbody></table></div>"
        }
        return html + "</section>"
    }

    // MARK: Digest

    /// The morning digest of a day, as `daybook digest` has it, with a form to pick another
    /// day (a plain GET form: it works with JavaScript off).
    static func digest(_ digest: Digest, date: String?) -> String {
        var html = "<section id=\"digest\"><form method=\"get\" action=\"/digest\">"
        // A moment (windows shorter than a day) stays as given: a date field would drop it.
        let isMoment = digest.date == nil && (date?.utf8.count ?? 0) > 10
        html +=
            "<label for=\"date\">Day</label> <input id=\"date\" name=\"date\" type=\"\(isMoment ? "text" : "date")\""
        html += " value=\"\(HTML.escape(digest.date ?? date ?? ""))\">"
        html += " <button type=\"submit\">Show</button></form></section>"
        for slot in digest.slots {
            html += "<section><h2>\(HTML.escape(DigestWords.title(digest, slot)))</h2>"
            let stateClass = slot.window.state == .closed ? "muted" : "warn"
            html += "<p class=\"\(stateClass)\" id=\"digest-state\">\(HTML.escape(DigestWords.state(slot)))</p>"
            if slot.window.state != .pruned {
                html += "<p><b>\(HTML.escape(DigestWords.summary(slot)))</b></p><ul id=\"digest-headline\">"
                for line in DigestWords.headline(slot) {
                    html += "<li class=\"\(DigestWords.isUrgent(line) ? "bad" : "")\">\(HTML.escape(line))</li>"
                }
                html += "</ul>"
            }
            html += "</section>"
            if !slot.tables.isEmpty {
                let window = "/windows/\(HTML.query(slot.window.start))"
                html += "<section><h2>Tables</h2><div class=\"scroll\"><table id=\"digest-tables\">"
                html += "<thead><tr><th>table</th>"
                html += "<th class=\"n\">inserts</th><th class=\"n\">updates</th><th class=\"n\">deletes</th>"
                html += "<th class=\"n\">truncates</th><th>verdict</th></tr></thead><tbody>"
                for table in slot.tables {
                    let flagged = table.verdict == .unusual || table.verdict == .silent
                    html += "<tr><td><a href=\"\(HTML.escape(window))#\(HTML.escape(HTML.query(table.table)))\">"
                    html += "\(HTML.escape(table.table))</a></td>"
                    for value in [table.inserts, table.updates, table.deletes, table.truncates] {
                        html += "<td class=\"n\">\(DigestWords.number(value))</td>"
                    }
                    let verdict = HTML.escape(DigestWords.verdict(table))
                    html += "<td class=\"\(flagged ? "bad" : "muted")\">\(verdict)</td></tr>"
                }
                html += "</tbody></table></div></section>"
            }
            let attributed = slot.tables.compactMap { table in DigestWords.who(table).map { (table.table, $0) } }
            if !attributed.isEmpty {
                html += "<section id=\"digest-who\"><h2>Who changed it</h2><ul>"
                for (table, who) in attributed { html += "<li>\(HTML.escape(table)): \(HTML.escape(who))</li>" }
                html += "</ul></section>"
            }
            if !slot.schemaChanges.isEmpty {
                html += "<section id=\"digest-schema\"><h2>Schema changes</h2>"
                html += "<p class=\"muted\">Dated by the first change under the new shape.</p><ul>"
                for note in slot.schemaChanges {
                    html += "<li>\(HTML.escape(note.table)): \(HTML.escape(note.sentence)), at "
                    html += "\(HTML.escape(note.commitTime ?? "?")) (LSN \(HTML.escape(note.lsn)))</li>"
                }
                html += "</ul></section>"
            }
        }
        return html
    }

    /// What the key page shows: the key's events (a `values` table, closed window) or its
    /// per-key row, and the recorded gaps that may touch its window.
    struct KeyFound {
        var events: JSONValue?
        var row: [String: String]?
        var gaps: [Gap]
    }

    static func key(start: String, table: String, key: String, _ found: KeyFound) -> String {
        var html = "<section><h2>\(HTML.escape(table)) <code>\(HTML.escape(key))</code></h2>"
        html += found.gaps.map { "<p class=\"warn\" data-gap>\(HTML.escape($0.sentence))</p>" }.joined()
        html +=
            "<p><a href=\"/windows/\(HTML.escape(HTML.query(start)))\">window starting \(HTML.escape(start))</a></p>"
        if let row = found.row {
            html += "<p>Operations <code>\(HTML.escape(row["ops"] ?? ""))</code> (\(HTML.escape(row["net"] ?? ""))), "
            html +=
                "first \(HTML.escape(row["first_change_at"] ?? "")), last \(HTML.escape(row["last_change_at"] ?? "")).</p>"
            html +=
                "<p class=\"muted\">Values are kept for tables captured at values, once the window has closed (daybook capture \(HTML.escape(table)) values).</p>"
            return html + "</section>"
        }
        guard let events = found.events else { return html + "</section>" }
        html +=
            "<p>Operations <code>\(HTML.escape(events["ops"]?.string ?? ""))</code> (\(HTML.escape(events["net"]?.string ?? ""))); before the day: \(HTML.escape(events["before"]?.string ?? "?")).</p>"
        if let changed = events["changed"]?.object, !changed.isEmpty {
            html +=
                "<h3>Changed</h3><div class=\"scroll\"><table><thead><tr><th>column</th><th>before</th><th>after</th></tr></thead><tbody>"
            for column in changed.keys.sorted() {
                let change = changed[column]?.object ?? [:]
                // No "before" at all: the day began with the row's insert (or its image is unknown).
                let before = change.keys.contains("before") ? text(change["before"]) : "—"
                html +=
                    "<tr><td>\(HTML.escape(column))</td><td>\(HTML.escape(before))</td><td>\(HTML.escape(text(change["after"])))</td></tr>"
            }
            html += "</tbody></table></div>"
        }
        html +=
            "<h3>Events</h3><div class=\"scroll\"><table class=\"events\"><thead><tr><th>op</th><th>at</th><th>lsn</th><th>row</th></tr></thead><tbody>"
        for event in events["events"]?.array ?? [] {
            html +=
                "<tr><td>\(HTML.escape(event["op"]?.string ?? ""))</td><td>\(HTML.escape(event["at"]?.string ?? ""))</td>"
            html +=
                "<td><code>\(HTML.escape(event["lsn"]?.string ?? ""))</code></td><td><code>\(HTML.escape(text(event["row"])))</code></td></tr>"
        }
        html += "</tbody></table></div>"
        if events["truncated"] == .bool(true) {
            html +=
                "<p class=\"warn\">\(HTML.escape(text(events["events_left_out"]))) events left out (--max-events-per-key).</p>"
        }
        return html + "</section>"
    }

    // MARK: Formatting

    /// A value as the page shows it: text as it is, anything else as compact JSON.
    private static func text(_ value: JSONValue?) -> String {
        guard let value else { return "null" }
        return value.string ?? DaybookJSON.text(value)
    }

    /// Seconds from `earlier` to `later`, both ISO 8601 with an offset.
    static func seconds(between earlier: String, and later: String) -> Double? {
        func date(_ text: String) -> Date? {
            for options: ISO8601DateFormatter.Options in [
                [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
            ] {
                let parser = ISO8601DateFormatter()
                parser.formatOptions = options
                if let date = parser.date(from: text) { return date }
            }
            return nil
        }
        guard let from = date(earlier), let to = date(later) else { return nil }
        return to.timeIntervalSince(from)
    }

    /// How long, in the one form people read everywhere (``HumanDuration``).
    static func format(seconds: Double) -> String { HumanDuration.text(seconds: seconds) }

    /// `HH:MM:SS` of an ISO 8601 moment (the full moment goes in the element's title).
    static func timeOfDay(_ moment: String) -> String {
        let characters = Array(moment)
        guard characters.count >= 19, characters[10] == "T" else { return moment }
        return String(characters[11..<19])
    }

    private static func bytes(_ value: Double) -> String {
        if value < 1_024 { return "\(Int(value)) B" }
        if value < 1_048_576 { return String(format: "%.1f kB", value / 1_024) }
        return String(format: "%.1f MB", value / 1_048_576)
    }
}
