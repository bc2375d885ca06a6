import ArgumentParser
import Daybook
import DaybookCore
import Foundation

extension ReportFormat: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print final window results: per table, or per key with --keys.",
        discussion: """
            Only closed windows appear (their results are final) unless --include-open. Dates are read in the \
            slot's time zone (or --time-zone). JSON output is one object per line. When the asked-for day is \
            not closed yet, a note says when it will close and whether heartbeats are arriving (after the \
            table for text and markdown, on stderr for json and csv).

            Per table: window_start, window_end, table, inserts, updates, deletes, truncates, transactions, \
            keys (distinct keys changed), first_change_at, last_change_at, late (changes that arrived after \
            the window closed; kept in daybook.late_changes, never merged).
            Per key: window_start, window_end, table, key, ops (I, U, D in commit order), first_change_at, \
            last_change_at, net (created, updated, deleted, created then deleted, deleted then recreated).
            With --events (tables captured at values, `daybook capture TABLE values`): per key, its events in \
            commit order with their row images and the columns that changed. JSON: one object per key with \
            window_start, window_end, table, key, ops, net, first_change_at, last_change_at, before (known, none \
            or unknown: what is known of the row before the day), changed (column -> {before, after}; before is \
            absent when there was no row or it is unknown, after when the row was deleted), truncated, \
            events_left_out, events ([{op, at, lsn, row, old_key?, new_key?, old_row?, unchanged?, actor?}]). CSV has \
            one row per event; text and markdown show what each event changed.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "One day: YYYY-MM-DD, yesterday or today.")
    var date: String?

    @Option(name: .long, help: "Windows starting at or after this date or timestamp.")
    var from: String?

    @Option(name: .long, help: "Windows starting before this date or timestamp.")
    var to: String?

    @Option(name: .long, help: "Output format: text, json, csv or markdown.")
    var format: ReportFormat = .text

    @Flag(
        name: .long,
        help:
            "Text: every column, full timestamps (by default text fits 100 columns: times of day, zero columns left out)."
    )
    var wide = false

    @Flag(name: .long, help: "Per-key rows instead of per-table rows.")
    var keys = false

    @Flag(
        name: .long,
        help: "One row per window, open ones included: its state, what closed it, when it closes, total changes."
    )
    var windows = false

    @Option(name: .long, help: "Per-key rows, only the N most-changed keys of each table and window.")
    var top: Int?

    @Flag(
        name: .long,
        help: "Per key of tables captured at values: the events with their values and the changed columns."
    )
    var events = false

    @Option(name: .long, help: ArgumentHelp("Only this table (schema.table).", valueName: "table"))
    var table: String?

    @Flag(name: .long, help: "Include windows that are still open (their figures may still change).")
    var includeOpen = false

    @Flag(name: .long, help: "The union of all slots writing to this sink, instead of --slot only.")
    var allSlots = false

    @Option(name: .long, help: "IANA time zone for dates and times (default: the slot's).")
    var timeZone: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also save the report as DIR/daybook-<day>[-events].<txt|jsonl|csv|md> (with --date), for cron.",
            valueName: "dir"
        )
    )
    var saveDir: String?

    func validate() throws {
        if date != nil && (from != nil || to != nil) {
            throw ValidationError("give --date, or --from/--to, not both")
        }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if events && (keys || top != nil) { throw ValidationError("give --events or --keys/--top, not both") }
        if windows && (events || keys || top != nil || table != nil) {
            throw ValidationError("--windows lists windows; it goes without --keys, --top, --events and --table")
        }
        if events && includeOpen {
            throw ValidationError("--events shows closed windows only (a day's events are final once it closes)")
        }
        if saveDir != nil && date == nil {
            throw ValidationError("--save-dir names the file by --date; give --date too")
        }
    }

    func run() throws {
        try reportingErrors {
            let sink = try connectCurrentSink(connection)
            var request = Report.Request()
            request.date = date
            request.from = from
            request.to = to
            request.keys = keys
            request.top = top
            request.includeOpen = includeOpen
            request.slot = allSlots ? nil : connection.slot
            request.timeZone = timeZone
            request.events = events
            request.table = table
            request.windows = windows
            // A report killed by `timeout` or Ctrl-C must not leave its statement running.
            let output = try cancellingOnSignals(sink, command: "daybook report") {
                try Report.fetch(request, from: sink)
            }
            var text: String
            if let lines = output.events {
                text =
                    lines.isEmpty && format.isForPeople
                    ? "no closed windows with captured values in that range (daybook capture TABLE values)\n"
                    : EventReportFormat.render(lines, as: format)
            } else if output.table.rows.isEmpty && format.isForPeople {
                text = includeOpen ? "no windows in that range\n" : "no closed windows in that range\n"
            } else if format == .text && !wide {
                let fitted = ReportFit.fit(output.table)
                text = format.render(fitted.table)
                if let note = fitted.note { text += "\(note)\n" }
            } else {
                text = format.render(output.table)
            }
            if let notice = output.notice, format.isForPeople {
                // Wrapped for a terminal in text; Markdown is rendered, so one paragraph.
                text +=
                    "\nnote: "
                    + (format == .text ? TextWrap.lines(notice, width: 94).joined(separator: "\n      ") : notice)
                    + "\n"
            }
            print(text, terminator: "")
            if let notice = output.notice, !format.isForPeople { printError(notice, prefix: "daybook: note") }
            if let saveDir, let day = output.day {
                let name = "daybook-\(day)\(events ? "-events" : "").\(format.fileExtension)"
                try saveAtomically(text, directory: saveDir, name: name, what: "report")
            }
        }
    }
}
