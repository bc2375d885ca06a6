/// The digest as Markdown: for chat tools, a wiki or a file kept beside the night's report.
enum DigestMarkdown {
    static func render(_ digest: Digest) -> String {
        digest.slots.map { section($0, of: digest) }.joined(separator: "\n")
    }

    private static func section(_ slot: Digest.Slot, of digest: Digest) -> String {
        var output = "## \(escape(DigestWords.title(digest, slot)))\n\n"
        output += "_\(escape(DigestWords.state(slot)))_\n\n"
        if slot.window.state != .pruned {
            output += "\(DigestWords.summary(slot))\n\n"
            for line in DigestWords.headline(slot) { output += "- \(escape(line))\n" }
        }
        if !slot.tables.isEmpty {
            output += "\n| table | inserts | updates | deletes | truncates | verdict |\n"
            output += "| --- | ---: | ---: | ---: | ---: | --- |\n"
            for table in slot.tables {
                let figures = [table.inserts, table.updates, table.deletes, table.truncates].map(DigestWords.number)
                output +=
                    "| \(escape(table.table)) | " + figures.joined(separator: " | ")
                    + " | \(escape(DigestWords.verdict(table))) |\n"
            }
        }
        if !slot.schemaChanges.isEmpty {
            output += "\n**Schema changes** (dated by the first change under the new shape)\n\n"
            for note in slot.schemaChanges {
                output +=
                    "- \(escape(note.table)): \(escape(note.sentence)), at \(note.commitTime ?? "?") (LSN \(note.lsn))\n"
            }
        }
        let attributed = slot.tables.compactMap { table in DigestWords.who(table).map { (table.table, $0) } }
        if !attributed.isEmpty {
            output += "\n**Who changed it**\n\n"
            for (table, who) in attributed { output += "- \(escape(table)): \(escape(who))\n" }
        }
        let keyed = slot.tables.filter { !$0.topKeys.isEmpty }
        if !keyed.isEmpty {
            output += "\n**Top keys**\n\n"
            for table in keyed {
                let keys = table.topKeys.map { "\(escape(DigestWords.key($0.key))) \(DigestWords.number($0.changes))" }
                output += "- \(escape(table.table)): " + keys.joined(separator: ", ") + "\n"
            }
        }
        return output
    }

    /// Escapes what Markdown would read as markup (table cells included), code point by code
    /// point (a combining mark must not hide a bracket), and turns line breaks and other
    /// control characters into spaces, so that no value starts a line of its own.
    static func escape(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}" {
                escaped.append(" ")
                continue
            }
            if "\\`*_[]|<>#~".unicodeScalars.contains(scalar) { escaped.append("\\") }
            escaped.append(scalar)
        }
        return String(escaped)
    }
}
