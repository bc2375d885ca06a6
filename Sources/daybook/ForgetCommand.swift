import ArgumentParser
import Daybook

struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Erase every stored value of a key, or of a data subject across tables; keep the counts.",
        discussion: """
            Replaces every value of the key's rows but its key columns by (forgotten), wherever the sink keeps \
            values: the events of closed and open days, the changed columns of closed days, and the key's latest \
            image (deleted). The per-table counts and the key's operations stay, so reports of those days still \
            add up; their events show the key's changes with (forgotten) values. Safe while `daybook run` runs \
            and while the key's day is still open: changes committed before the erasure that reach the sink \
            after it are erased as they arrive. Each erasure is logged in daybook.erasures (table, key, when, \
            by which role, how many rows; never a value).

            --column and --value find a data subject across tables: every key of the tables captured at values \
            (or of --tables) whose latest image, or an event of a day still open, holds the value in that column \
            (compared as its hash or mask where the column is hashed or masked, with the rule's key file), and \
            erase each of them as above.

            Daybook erases what it holds, not the source: erase the subject there too, or its next changes are \
            captured again. --dry-run counts what would be erased. A key or value that matches nothing says so \
            (exit 0, nothing written).
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("The table of --key (schema.table).", valueName: "table"))
    var table: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The key, as a JSON object of its columns: '{\"id\": \"42\"}'.", valueName: "json")
    )
    var key: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The column that identifies the subject (e.g. email).", valueName: "column")
    )
    var column: String?

    @Option(name: .long, help: ArgumentHelp("The subject's value in --column.", valueName: "value"))
    var value: String?

    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "With --column: only these tables (default: every table captured at values)."
    )
    var tables: [String] = []

    @Flag(name: .long, help: "Say what would be erased; erase nothing.")
    var dryRun = false

    func validate() throws {
        switch (table, key, column, value) {
        case (.some, .some, nil, nil), (nil, nil, .some, .some): break
        default:
            throw ValidationError(
                "give --table T --key JSON (one key), or --column C --value V [--tables …] (a subject across tables)"
            )
        }
        if !tables.isEmpty && column == nil { throw ValidationError("--tables goes with --column and --value") }
    }

    private var target: Erasure.Target {
        if let table, let key { return .key(table: table, key: key) }
        return .value(column: column ?? "", value: value ?? "", tables: tables.isEmpty ? nil : tables)
    }

    func run() throws {
        try reportingErrors {
            let sink = try connectCurrentSink(connection)
            var request = Erasure.Request(slot: connection.slot, target: target)
            request.dryRun = dryRun
            let outcomes = try Erasure.forget(request, on: sink)
            if outcomes.isEmpty {
                // Never the value itself: it is what is being forgotten.
                // Nor the key: a hashed key column's value is what is being forgotten too.
                let what = table.map { "that key of \($0)" } ?? "a key holding that value in \(column ?? "")"
                print("no stored values of \(what) in slot \(connection.slot): nothing to forget")
                return
            }
            for outcome in outcomes {
                let what =
                    "the values of \(outcome.events) events, the changed columns of \(outcome.keyWindows) closed days "
                    + "and \(outcome.images) latest image of \(outcome.table) \(outcome.key)"
                print(dryRun ? "would erase \(what)" : "erased \(what)")
            }
            print(dryRun ? "nothing erased (--dry-run)" : "logged in daybook.erasures")
        }
    }
}
