/// The digest's renderings. All carry the same facts; JSON carries them all, exactly, and is
/// the contract (``Digest``); text fits 100 columns; Markdown reads well in chat and in a
/// repository; HTML reads well in an email client (inline CSS, no script, nothing fetched).
public enum DigestFormat: String, CaseIterable, Sendable {
    case text, markdown, json, html

    /// The file name extension for saved digests.
    public var fileExtension: String {
        switch self {
        case .text: "txt"
        case .markdown: "md"
        case .json: "json"
        case .html: "html"
        }
    }

    public func render(_ digest: Digest) -> String {
        switch self {
        case .json: DaybookJSON.text(digest) + "\n"
        case .text: DigestText.render(digest)
        case .markdown: DigestMarkdown.render(digest)
        case .html: DigestHTML.render(digest)
        }
    }
}

/// What every rendering for people says, in the same words (the dashboard's digest page too).
public enum DigestWords {
    static let width = 100

    /// `12345` as `12,345`.
    public static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    static func plural(_ count: Int, _ noun: String) -> String {
        "\(number(count)) \(noun)\(count == 1 ? "" : "s")"
    }

    /// The section's title line.
    public static func title(_ digest: Digest, _ slot: Digest.Slot) -> String {
        let when = digest.date ?? slot.window.start
        return "Daybook digest for \(when), slot \(slot.slot) (\(slot.timeZone))"
    }

    /// The window and whether its figures are final.
    public static func state(_ slot: Digest.Slot) -> String {
        let window = slot.window
        let span = "window \(window.start) to \(window.end)"
        switch window.state {
        case .closed:
            if let closedAt = window.closedAt {
                return "\(span), closed \(closedAt) by \(window.closedBy ?? "?"): final figures"
            }
            return "\(span): closed without a change (no row was written that day)"
        case .open:
            let heartbeat =
                window.lastHeartbeatAgo.map { "the last heartbeat reached the stream \($0) ago" }
                ?? "no heartbeat has reached the stream yet"
            return "\(span) is NOT CLOSED: figures so far, they may still change. It closes when stream time "
                + "reaches \(window.closesAt ?? "?"); stream time is \(window.streamTime ?? "not known yet"); \(heartbeat)"
        case .pruned:
            return "\(span) was pruned (daybook prune --all): its results are gone, not empty"
        case .none:
            return "\(span): no results (before the first window Daybook summarised for this slot)"
        }
    }

    /// The headline's lines, most urgent first; "nothing unusual" when there is nothing.
    public static func headline(_ slot: Digest.Slot) -> [String] {
        let headline = slot.headline
        var lines: [String] = []
        for change in headline.massChanges {
            switch change.kind {
            case .truncate:
                lines.append("TRUNCATE: \(change.table) (\(plural(change.count, "time")))")
            case .massDelete:
                let share = change.share.map { ", \(Int(($0 * 100).rounded()))% of the table" } ?? ""
                lines.append("Mass delete: \(change.table), \(plural(change.count, "row"))\(share)")
            }
        }
        for name in headline.unusual {
            let figures = slot.tables.first { $0.table == name }?.figures.filter(\.unusual) ?? []
            let what = figures.map { "\($0.figure.rawValue) \(number($0.value)), usual \(range($0))" }
            lines.append("Unusual: \(name)" + (what.isEmpty ? "" : ": " + what.joined(separator: "; ")))
        }
        for name in headline.silent {
            lines.append("Silent: \(name) did not change (it changed in most windows before)")
        }
        if !headline.schemaChanged.isEmpty {
            lines.append("Schema changed: " + headline.schemaChanged.joined(separator: ", "))
        }
        if !headline.new.isEmpty {
            lines.append("New: " + headline.new.joined(separator: ", ") + " changed for the first time")
        }
        if headline.lateChanges > 0 {
            lines.append("Late: \(plural(headline.lateChanges, "change")) arrived after the window closed (kept apart)")
        }
        for window in headline.openWindows {
            lines.append(
                "Still open: the window of \(window.start) (closes when stream time reaches \(window.closesAt))"
            )
        }
        for gap in slot.incomplete { lines.append("Incomplete: \(gap)") }
        if lines.isEmpty { lines.append("Nothing unusual.") }
        return lines
    }

    /// Whether a headline line is one a reader must act on (red in HTML).
    public static func isUrgent(_ line: String) -> Bool {
        ["TRUNCATE", "Mass delete", "Unusual", "Silent", "Incomplete"].contains { line.hasPrefix($0) }
    }

    public static func summary(_ slot: Digest.Slot) -> String {
        "\(plural(slot.headline.changes, "change")) in \(plural(slot.headline.tablesChanged, "table"))."
    }

    static func range(_ figure: Digest.Figure) -> String {
        "\(number(figure.expectedMin))–\(number(figure.expectedMax))"
    }

    /// The verdict in words, with why.
    public static func verdict(_ table: Digest.Table) -> String {
        switch table.verdict {
        case .unusual:
            return "unusual: "
                + table.figures.filter(\.unusual).map {
                    "\($0.figure.rawValue) \(number($0.value)) (usual \(range($0)) over \(plural($0.points, "window")))"
                }.joined(separator: "; ")
        case .usual: return "usual"
        case .silent: return "silent"
        case .new: return "new"
        case .pending: return "no change yet (the window is open)"
        case .notEnoughHistory:
            return "not enough history (\(table.historyWindows) of \(table.historyNeeded) windows)"
        }
    }

    public static func key(_ key: JSONValue) -> String { DaybookJSON.text(key) }

    /// Who changed a table, in one line; nil when nobody was attributed.
    public static func who(_ table: Digest.Table) -> String? {
        guard !table.actors.isEmpty || !table.applications.isEmpty || !table.origins.isEmpty else { return nil }
        func list(_ shares: [Digest.Share]) -> String {
            shares.map { "\($0.name) \(number($0.changes))" }.joined(separator: ", ")
        }
        var parts: [String] = []
        if !table.actors.isEmpty { parts.append("by " + list(table.actors)) }
        if !table.applications.isEmpty { parts.append("through " + list(table.applications)) }
        if !table.origins.isEmpty { parts.append("from " + list(table.origins)) }
        if table.unattributed > 0 { parts.append("\(number(table.unattributed)) unattributed") }
        return parts.joined(separator: "; ")
    }
}
