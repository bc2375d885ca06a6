import ArgumentParser
import Daybook

struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Erase every stored value of one key of a table (a right-to-erasure request); keep the counts.",
        discussion: """
            Replaces every value of the key's rows but its key columns by (forgotten), wherever the sink keeps \
            values: the events of closed and open days, the changed columns of closed days, and the key's latest \
            image (deleted). The per-table counts and the key's operations stay, so reports of those days still \
            add up; their events show the key's changes with (forgotten) values. Safe while `daybook run` runs \
            and while the key's day is still open: changes committed before the erasure that reach the sink \
            after it are erased as they arrive. Each erasure is logged in daybook.erasures (table, key, when, \
            by which role, how many rows; never a value).

            Daybook erases what it holds, not the source: erase the subject there too, or its next changes are \
            captured again. --dry-run counts what would be erased. A key that matches nothing says so (exit 0, \
            nothing written).
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("The table (schema.table).", valueName: "table"))
    var table: String

    @Option(
        name: .long,
        help: ArgumentHelp("The key, as a JSON object of its columns: '{\"id\": \"42\"}'.", valueName: "json")
    )
    var key: String

    @Flag(name: .long, help: "Say what would be erased; erase nothing.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            let sink = try connectCurrentSink(connection)
            var request = Erasure.Request(slot: connection.slot, table: table, key: key)
            request.dryRun = dryRun
            let outcome = try Erasure.forget(request, on: sink)
            if outcome.nothingStored {
                print("no stored values of \(table) \(key) in slot \(connection.slot): nothing to forget")
                return
            }
            let what =
                "the values of \(outcome.events) events, the changed columns of \(outcome.keyWindows) closed days "
                + "and \(outcome.images) latest image of \(table) \(outcome.key)"
            print(
                dryRun
                    ? "would erase \(what) (nothing erased: --dry-run)" : "erased \(what); logged in daybook.erasures"
            )
        }
    }
}
