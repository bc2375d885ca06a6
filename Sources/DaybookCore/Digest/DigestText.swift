/// The digest as plain text that fits ``DigestWords/width`` columns: the headline first, then
/// one line of figures per table, then the schema changes and the top keys.
enum DigestText {
    static func render(_ digest: Digest) -> String {
        digest.slots.map { section($0, of: digest) }.joined(separator: "\n")
    }

    private static func section(_ slot: Digest.Slot, of digest: Digest) -> String {
        var lines: [String] = []
        lines += wrap(DigestWords.title(digest, slot))
        lines += wrap(DigestWords.state(slot).capitalizedFirst)
        lines.append("")
        if slot.window.state != .pruned {
            lines += wrap(DigestWords.summary(slot), indent: "  ")
            for line in DigestWords.headline(slot) { lines += wrap("* " + line, indent: "  ", hanging: "    ") }
        }
        let changed = slot.tables
        if !changed.isEmpty {
            lines.append("")
            lines += tableLines(changed)
        }
        if !slot.schemaChanges.isEmpty {
            lines.append("")
            lines.append("Schema changes (dated by the first change under the new shape)")
            for note in slot.schemaChanges {
                lines += wrap(
                    "\(note.table): \(note.sentence), at \(note.commitTime ?? "?") (LSN \(note.lsn))",
                    indent: "  ",
                    hanging: "    "
                )
            }
        }
        let attributed = slot.tables.compactMap { table in DigestWords.who(table).map { (table.table, $0) } }
        if !attributed.isEmpty {
            lines.append("")
            lines.append("Who changed it")
            for (table, who) in attributed { lines += wrap("\(table): \(who)", indent: "  ", hanging: "    ") }
        }
        let keyed = slot.tables.filter { !$0.topKeys.isEmpty }
        if !keyed.isEmpty {
            lines.append("")
            lines.append("Top keys")
            for table in keyed {
                let keys = table.topKeys.map { "\(DigestWords.key($0.key)) \(DigestWords.number($0.changes))" }
                lines += wrap("\(table.table): " + keys.joined(separator: ", "), indent: "  ", hanging: "    ")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line per table: its figures, its verdict, and why on the next line when unusual.
    private static func tableLines(_ tables: [Digest.Table]) -> [String] {
        // The figures take what they need (9 columns up to 99,999,999); the name what is left
        // of the width beside them and the longest verdict, at most 40.
        let numberWidth = max(
            9,
            tables.flatMap { [$0.inserts, $0.updates, $0.deletes, $0.truncates] }.map { DigestWords.number($0).count }
                .max() ?? 9
        )
        let verdictWidth = "too little history".count
        let room = DigestWords.width - 4 * (numberWidth + 1) - 2 - verdictWidth
        let nameWidth = max(5, min(tables.map(\.table.count).max() ?? 5, 40, room))
        let numbers = ["inserts", "updates", "deletes", "truncates"]
        var lines = [
            pad("table", nameWidth) + numbers.map { " " + padLeft($0, numberWidth) }.joined() + "  verdict"
        ]
        lines.append(String(repeating: "-", count: nameWidth + numbers.count * (numberWidth + 1) + 9))
        for table in tables {
            let figures = [table.inserts, table.updates, table.deletes, table.truncates]
            let verdict: String =
                switch table.verdict {
                case .notEnoughHistory: "too little history"
                case .pending: "no change yet"
                default: table.verdict.rawValue.replacingUnderscores
                }
            lines.append(
                pad(shortened(table.table, nameWidth), nameWidth)
                    + figures.map { " " + padLeft(DigestWords.number($0), numberWidth) }.joined() + "  " + verdict
            )
            if table.verdict == .unusual || table.verdict == .notEnoughHistory {
                lines += wrap(DigestWords.verdict(table), indent: "    ", hanging: "      ")
            }
        }
        return lines
    }

    /// Wraps `text` at spaces to the digest's width (``TextWrap``).
    static func wrap(_ text: String, indent: String = "", hanging: String? = nil) -> [String] {
        TextWrap.lines(text, width: DigestWords.width, indent: indent, hanging: hanging)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    private static func padLeft(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// A name cut in the middle to `width` characters, so both schema and table stay readable.
    private static func shortened(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        let head = (width - 1) / 2
        return String(text.prefix(head)) + "…" + String(text.suffix(width - 1 - head))
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
    fileprivate var replacingUnderscores: String { split(separator: "_").joined(separator: " ") }
}
