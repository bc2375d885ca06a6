import DaybookCore
import Foundation

/// Renders `daybook report --events` objects (one JSON object per key, as ``EventReportSQL``
/// builds them) in each output format: JSON as it is, CSV one row per event, text and
/// markdown as a readable per-key diff (what changed at each event, not the whole row again).
public enum EventReportFormat {
    /// The CSV columns: the key's, then the event's (JSON values as JSON text).
    static let csvColumns = [
        "window_start", "window_end", "table", "key", "ops", "net", "op", "at", "lsn", "row", "old_key", "new_key",
        "old_row", "unchanged", "actor",
    ]

    public static func render(_ lines: [String], as format: ReportFormat) -> String {
        switch format {
        case .json: return lines.map { JSONText.compact($0) + "\n" }.joined()
        case .csv: return csv(lines.compactMap(object))
        case .text: return lines.compactMap(object).map(text).joined(separator: "\n")
        case .markdown: return lines.compactMap(object).map(markdown).joined(separator: "\n")
        }
    }

    private static func object(_ line: String) -> JSONValue? {
        DaybookJSON.decode(JSONValue.self, from: line).flatMap { $0.object == nil ? nil : $0 }
    }

    /// Compact JSON text of a value (sorted keys), or "" for none.
    private static func jsonText(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "" }
        return DaybookJSON.text(value)
    }

    private static func events(_ object: JSONValue) -> [JSONValue] {
        object["events"]?.array ?? []
    }

    private static func string(_ object: JSONValue, _ field: String) -> String {
        object[field]?.string ?? ""
    }

    // MARK: CSV

    private static func csv(_ objects: [JSONValue]) -> String {
        func field(_ value: String) -> String {
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
            return "\"" + value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"")
                + "\""
        }
        var output = csvColumns.joined(separator: ",") + "\n"
        for object in objects {
            let keyFields = [
                string(object, "window_start"), string(object, "window_end"), string(object, "table"),
                jsonText(object["key"]), string(object, "ops"), string(object, "net"),
            ]
            for event in events(object) {
                let eventFields = [
                    string(event, "op"), string(event, "at"), string(event, "lsn"), jsonText(event["row"]),
                    jsonText(event["old_key"]), jsonText(event["new_key"]), jsonText(event["old_row"]),
                    jsonText(event["unchanged"]), jsonText(event["actor"]),
                ]
                output += (keyFields + eventFields).map(field).joined(separator: ",") + "\n"
            }
        }
        return output
    }

    // MARK: Text and markdown

    /// A value as people read it: text as it is, NULL as NULL.
    private static func show(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "NULL" }
        return value.string ?? jsonText(value)
    }

    /// What one event did, relative to the image before it: the whole row for the first
    /// image, then only the columns whose value differs.
    private static func describe(_ event: JSONValue, previous: [String: JSONValue]?) -> String {
        let op = string(event, "op")
        var parts: [String] = []
        if let oldKey = event["old_key"], !oldKey.isNull { parts.append("key was \(jsonText(oldKey))") }
        if let newKey = event["new_key"], !newKey.isNull { parts.append("key became \(jsonText(newKey))") }
        if op == "D" {
            parts.insert("deleted", at: 0)
            return parts.joined(separator: "; ") + by(event)
        }
        let row = event["row"]?.object ?? [:]
        for column in row.keys.sorted() {
            let value = show(row[column])
            if let previous, previous[column].map(show) == value { continue }
            parts.append("\(column)=\(value)")
        }
        for column in (event["unchanged"]?.array ?? []).compactMap(\.string) {
            parts.append("\(column)=(unchanged, value not known)")
        }
        if parts.isEmpty { parts.append("no captured column changed") }
        return parts.joined(separator: ", ") + by(event)
    }

    /// " (by alice through web)": who made the change, when it is known.
    private static func by(_ event: JSONValue) -> String {
        guard let actor = event["actor"]?.object else { return "" }
        var parts: [String] = []
        if let name = actor["actor"]?.string { parts.append("by \(name)") }
        if let application = actor["application"]?.string { parts.append("through \(application)") }
        if let origin = actor["origin"]?.string { parts.append("from \(origin)") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: " ") + ")"
    }

    /// "column: before → after" lines of a key's `changed`.
    private static func changes(_ object: JSONValue) -> [String] {
        let changed = object["changed"]?.object ?? [:]
        let before = string(object, "before")
        return changed.keys.sorted().map { column in
            let change = changed[column]?.object ?? [:]
            let from =
                change.keys.contains("before") ? show(change["before"]) : before == "unknown" ? "(unknown)" : "(none)"
            let to = change.keys.contains("after") ? show(change["after"]) : "(deleted)"
            return "\(column): \(from) → \(to)"
        }
    }

    /// The time of day of an event (the date is the window's).
    /// The time of day to the second, as people read moments (the window gives the date; JSON
    /// and CSV keep the full moment).
    private static func time(_ event: JSONValue) -> String {
        let at = string(event, "at")
        guard let t = at.firstIndex(of: "T") else { return at }
        return String(at[at.index(after: t)...].prefix(8))
    }

    /// Each event with its description, the image carried from one to the next.
    private static func described(_ object: JSONValue) -> [(time: String, op: String, what: String)] {
        var previous: [String: JSONValue]?
        return events(object).map { event in
            let what = describe(event, previous: previous)
            previous = string(event, "op") == "D" ? nil : event["row"]?.object
            return (time(event), string(event, "op"), what)
        }
    }

    private static func leftOut(_ object: JSONValue) -> String? {
        guard let count = object["events_left_out"]?.integer, count > 0 else { return nil }
        return "\(count) events left out (over --max-events-per-key): the first ones and the last are shown"
    }

    private static func text(_ object: JSONValue) -> String {
        var output = "\(string(object, "window_start"))  \(string(object, "table"))  \(jsonText(object["key"]))  "
        output += "\(string(object, "ops"))  \(string(object, "net"))\n"
        let changes = changes(object)
        if !changes.isEmpty { output += "  changed: " + changes.joined(separator: "; ") + "\n" }
        for event in described(object) { output += "  \(event.time)  \(event.op)  \(event.what)\n" }
        if let leftOut = leftOut(object) { output += "  (\(leftOut))\n" }
        return output
    }

    private static func markdown(_ object: JSONValue) -> String {
        func cell(_ value: String) -> String {
            value.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
                .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
        }
        var output = "### \(cell(string(object, "table"))) `\(cell(jsonText(object["key"])))`: "
        output += "\(string(object, "net")) (\(cell(string(object, "ops"))))\n\n"
        output += "Window \(string(object, "window_start")) to \(string(object, "window_end")).\n\n"
        let changes = changes(object)
        if !changes.isEmpty { output += changes.map { "- \(cell($0))\n" }.joined() + "\n" }
        output += "| time | op | change |\n| --- | --- | --- |\n"
        for event in described(object) { output += "| \(event.time) | \(event.op) | \(cell(event.what)) |\n" }
        if let leftOut = leftOut(object) { output += "\n_\(leftOut)_\n" }
        return output
    }
}
