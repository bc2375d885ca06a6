/// The digest as one HTML document that reads well in an email client: inline CSS only (mail
/// clients drop style sheets), no script, nothing fetched from elsewhere, every value escaped.
enum DigestHTML {
    static func render(_ digest: Digest) -> String {
        let title = digest.slots.first.map { DigestWords.title(digest, $0) } ?? "Daybook digest"
        var body = ""
        for slot in digest.slots { body += section(slot, of: digest) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title></head>
            <body style="margin:0;padding:16px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
            font-size:14px;line-height:1.45;color:#1f2328;background:#ffffff">
            \(body)</body></html>

            """
    }

    private static let cell = "padding:4px 8px;border-bottom:1px solid #d0d7de;text-align:right"
    private static let nameCell = "padding:4px 8px;border-bottom:1px solid #d0d7de;text-align:left"

    private static func section(_ slot: Digest.Slot, of digest: Digest) -> String {
        var html = "<h2 style=\"font-size:18px;margin:0 0 4px\">\(escape(DigestWords.title(digest, slot)))</h2>\n"
        let stateColour = slot.window.state == .closed ? "#57606a" : "#9a6700"
        html += "<p style=\"margin:0 0 12px;color:\(stateColour)\">\(escape(DigestWords.state(slot)))</p>\n"
        if slot.window.state != .pruned {
            html +=
                "<p style=\"margin:0 0 8px\"><strong>\(escape(DigestWords.summary(slot)))</strong></p>\n<ul style=\"margin:0 0 16px;padding-left:20px\">\n"
            for line in DigestWords.headline(slot) {
                let urgent = ["TRUNCATE", "Mass delete", "Unusual", "Silent", "Incomplete"].contains {
                    line.hasPrefix($0)
                }
                html += "<li style=\"color:\(urgent ? "#cf222e" : "#1f2328")\">\(escape(line))</li>\n"
            }
            html += "</ul>\n"
        }
        if !slot.tables.isEmpty {
            html += "<table style=\"border-collapse:collapse;margin:0 0 16px\" role=\"presentation\">\n<tr>"
            html += "<th style=\"\(nameCell)\">table</th>"
            for name in ["inserts", "updates", "deletes", "truncates"] { html += "<th style=\"\(cell)\">\(name)</th>" }
            html += "<th style=\"\(nameCell)\">verdict</th></tr>\n"
            for table in slot.tables {
                let flagged = table.verdict == .unusual || table.verdict == .silent
                html += "<tr><td style=\"\(nameCell)\">\(escape(table.table))</td>"
                for value in [table.inserts, table.updates, table.deletes, table.truncates] {
                    html += "<td style=\"\(cell)\">\(DigestWords.number(value))</td>"
                }
                html +=
                    "<td style=\"\(nameCell);color:\(flagged ? "#cf222e" : "#57606a")\">\(escape(DigestWords.verdict(table)))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if !slot.schemaChanges.isEmpty {
            html += "<h3 style=\"font-size:15px;margin:0 0 4px\">Schema changes</h3>\n"
            html +=
                "<p style=\"margin:0 0 4px;color:#57606a\">Dated by the first change under the new shape.</p>\n<ul style=\"margin:0 0 16px;padding-left:20px\">\n"
            for note in slot.schemaChanges {
                html +=
                    "<li>\(escape(note.table)): \(escape(note.sentence)), at \(escape(note.commitTime ?? "?")) (LSN \(escape(note.lsn)))</li>\n"
            }
            html += "</ul>\n"
        }
        let attributed = slot.tables.compactMap { table in DigestWords.who(table).map { (table.table, $0) } }
        if !attributed.isEmpty {
            html += "<h3 style=\"font-size:15px;margin:0 0 4px\">Who changed it</h3>\n"
            html += "<ul style=\"margin:0 0 16px;padding-left:20px\">\n"
            for (table, who) in attributed { html += "<li>\(escape(table)): \(escape(who))</li>\n" }
            html += "</ul>\n"
        }
        let keyed = slot.tables.filter { !$0.topKeys.isEmpty }
        if !keyed.isEmpty {
            html +=
                "<h3 style=\"font-size:15px;margin:0 0 4px\">Top keys</h3>\n<ul style=\"margin:0 0 16px;padding-left:20px\">\n"
            for table in keyed {
                let keys = table.topKeys.map {
                    "<code>\(escape(DigestWords.key($0.key)))</code> \(DigestWords.number($0.changes))"
                }
                html += "<li>\(escape(table.table)): \(keys.joined(separator: ", "))</li>\n"
            }
            html += "</ul>\n"
        }
        return html
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
