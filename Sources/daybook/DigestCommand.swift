import ArgumentParser
import Daybook
import DaybookCore
import Foundation

extension DigestFormat: ExpressibleByArgument {}

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "The morning digest of a day: what was unusual, what changed shape, what is still open.",
        discussion: """
            For each table that changed in the day or in the windows before it, the day's inserts, updates, \
            deletes and truncates are judged against the same table's closed windows before it (the last --span \
            windows; the same weekday's once there are --weekday-minimum of them): a figure outside its usual \
            range is unusual, a table that changed in most windows before and not at all today is silent, one \
            changing for the first time is new. The usual range is the median plus or minus --threshold \
            modified z-scores (median absolute deviation, Iglewicz and Hoaglin), never narrower than \
            --absolute-floor changes or --relative-floor of the median, so 2 against a usual 0 is quiet.

            Listed first: every TRUNCATE, and mass deletes (at least --mass-delete-minimum rows and \
            --mass-delete-share of the table, against the source's row estimate read when the window closed); \
            then the unusual and silent tables, schema changes (columns added, dropped, renamed, retyped, replica \
            identity, key; dated by the first change under the new shape, as pgoutput describes a table again \
            only then), changes that arrived late, and earlier windows still open. A day that is not closed \
            says so, and when it will close.

            The day is read in the slot's time zone; its window must be a day or longer (for shorter windows, \
            pick one with --at and a moment in it). JSON is one object, versioned by digest_version (README, "The morning \
            digest"). Exit 64 for a date in the future, an unknown slot or table.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "The day: YYYY-MM-DD, yesterday (the default) or today.")
    var date: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A moment (a timestamp): the window that holds it, instead of --date (for windows shorter than a day).",
            valueName: "timestamp"
        )
    )
    var at: String?

    @Option(name: .long, help: "Output format: text (fits 100 columns), markdown, json or html (for email).")
    var format: DigestFormat = .text

    @Flag(name: .long, help: "Every slot writing to this sink, one section each, instead of --slot only.")
    var allSlots = false

    @Option(name: .long, help: ArgumentHelp("Only this table (schema.table).", valueName: "table"))
    var table: String?

    @Option(name: .long, help: "Keys listed for each table that needs a look (unusual, new, truncated); 0 for none.")
    var topKeys = 5

    @Option(name: .long, help: "Windows of history each figure is judged against.")
    var span = VolumeRule().span

    @Option(name: .long, help: "Fewer windows of history than this: \"not enough history\" instead of a verdict.")
    var minimumHistory = VolumeRule().minimumHistory

    @Option(name: .long, help: "Same-weekday windows needed before daily figures are compared by weekday.")
    var weekdayMinimum = VolumeRule().weekdayMinimum

    @Option(name: .long, help: "Modified z-score beyond which a figure is unusual.")
    var threshold = VolumeRule().threshold

    @Option(name: .long, help: "The usual range reaches at least this many changes either side of the median.")
    var absoluteFloor = VolumeRule().absoluteFloor

    @Option(name: .long, help: "…and at least this share of the median (0.5: half).")
    var relativeFloor = VolumeRule().relativeFloor

    @Option(name: .long, help: "Share of its history a table must have changed in to be silent when it does not.")
    var silentShare = VolumeRule().silentShare

    @Option(name: .long, help: "Deletes of at least this share of a table are a mass delete…")
    var massDeleteShare = MassDeleteRule().share

    @Option(name: .long, help: "…when they are at least this many rows.")
    var massDeleteMinimum = MassDeleteRule().minimum

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also save the digest as DIR/daybook-digest-<day>.<txt|md|json|html>, for cron.",
            valueName: "dir"
        )
    )
    var saveDir: String?

    func validate() throws {
        if at != nil && date != nil {
            throw ValidationError("give --date or --at, not both")
        }
        if saveDir != nil && at != nil {
            throw ValidationError("--save-dir names the file by the day: use --date, not --at")
        }
        for (name, value) in [
            ("--span", span), ("--minimum-history", minimumHistory), ("--weekday-minimum", weekdayMinimum),
            ("--mass-delete-minimum", massDeleteMinimum),
        ]
        where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        if topKeys < 0 || absoluteFloor < 0 {
            throw ValidationError("--top-keys and --absolute-floor cannot be negative")
        }
        for (name, value) in [
            ("--threshold", threshold), ("--relative-floor", relativeFloor), ("--silent-share", silentShare),
            ("--mass-delete-share", massDeleteShare),
        ]
        where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be a number of 0 or more")
        }
    }

    func run() throws {
        try reportingErrors {
            let sink = try connectCurrentSink(connection)
            var request = DigestQuery.Request()
            request.slot = allSlots ? nil : connection.slot
            request.date = date
            request.moment = at
            request.table = table
            request.topKeys = topKeys
            request.rule.span = span
            request.rule.minimumHistory = minimumHistory
            request.rule.weekdayMinimum = weekdayMinimum
            request.rule.threshold = threshold
            request.rule.absoluteFloor = absoluteFloor
            request.rule.relativeFloor = relativeFloor
            request.rule.silentShare = silentShare
            request.massDeletes.share = massDeleteShare
            request.massDeletes.minimum = massDeleteMinimum
            let digest = try cancellingOnSignals(sink, command: "daybook digest") {
                try DigestQuery.fetch(request, from: sink)
            }
            let text = format.render(digest)
            print(text, terminator: "")
            if let saveDir, let day = digest.date {
                try saveAtomically(
                    text,
                    directory: saveDir,
                    name: "daybook-digest-\(day).\(format.fileExtension)",
                    what: "digest"
                )
            }
        }
    }
}
