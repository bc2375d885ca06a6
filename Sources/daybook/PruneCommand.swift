import ArgumentParser
import Daybook
import DaybookCore
import PostgresReplication

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove old closed windows' per-key results from the sink, keeping the per-table summaries.",
        discussion: """
            Removes the per-key rows, changed columns and events (key_windows, key_values, value_events) of \
            closed windows that ended more than --keep ago; with --all also their per-table summaries and late \
            changes. Each pruned window stays listed, marked, so that a report for that day says it was pruned \
            rather than showing no changes. Open windows are never touched. `daybook run --prune-keep` does \
            the same (per-key results only) whenever windows close.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(
        name: .long,
        help: ArgumentHelp("Keep windows that ended less than this long ago (e.g. 90d, 12h).", valueName: "age")
    )
    var keep: String

    @Flag(name: .long, help: "Also remove the per-table summaries and late changes of those windows.")
    var all = false

    @Flag(name: .long, help: "Prune every slot's windows in this sink, not only --slot's.")
    var allSlots = false

    func validate() throws {
        _ = try keepSeconds()
    }

    private func keepSeconds() throws -> Int64 {
        do { return try DurationText.seconds(keep) } catch { throw ValidationError("--keep: \(error)") }
    }

    func run() throws {
        try reportingErrors {
            let sink = try connectCurrentSink(connection)
            let keep = Duration.seconds(try keepSeconds())
            var pruned: Retention.Result?
            do {
                try sink.withTransaction {
                    pruned = try Retention.prune(keep: keep, all: all, slot: allSlots ? nil : connection.slot, sink)
                }
            } catch {
                guard let failure = error as? PostgresError else { throw error }
                throw DaybookError.from(failure, role: .sink)
            }
            guard let result = pruned else { return }
            print(
                "pruned \(result.windows) window\(result.windows == 1 ? "" : "s"): \(result.keyRows) key rows, "
                    + "\(result.events) events" + (all ? ", \(result.tableRows) table rows" : "")
            )
        }
    }
}
