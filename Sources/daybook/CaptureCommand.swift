import ArgumentParser
import Daybook
import Windowing

extension CaptureLevel: ExpressibleByArgument {}

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Set how much Daybook keeps of a table's changes: counts, keys or values.",
        discussion: """
            counts: per-table figures only. keys (the default for every table): also each key's operations in \
            commit order. values: also every change with its row image, so that a closed day gives each key's \
            events with their values and the columns that changed (`daybook report --events`).

            The change takes effect at a clean point: from the first transaction committed after this command, \
            in every run of the slot (live, after a restart, in a replay), because it travels through the \
            replication stream itself. A window captured at two levels says so in the report (levels column). \
            `daybook status` lists every table's level. Needs the sink migrated and the slot set up.

            At values, --columns keeps only the named columns (and the key), --exclude-columns never keeps the \
            named ones (a key column cannot be excluded): an excluded value is dropped before anything is \
            stored, so it never reaches the sink. --hash keeps the named columns as keyed hashes \
            (hmac:<HMAC-SHA256 of the value under the key in --key-file>): equal values hash equal, so a report \
            still shows when they changed and they can be matched across days, but the values are never stored. \
            --mask keeps the named columns as the marker (masked), or (masked, changed) on an event whose \
            value changed (told by a keyed tag held only until the day closes); NULL stays null. \
            The key stays in its file (the sink keeps its id); a new key is a new rule (capture again with \
            another --key-file), from then on: earlier days keep their hashes.

            Where PostgreSQL allows it (a publication of tables, made with `daybook setup --tables`; a table \
            whose replica identity is not FULL), the publication's column list follows the level: the key alone \
            at counts and keys, the captured columns at values, so the server sends no more than is kept and an \
            excluded column never leaves it. Otherwise the output says why the table stays published whole.

            --attribute attaches a statement trigger that reports each statement's role (current_user) and \
            application_name, so `daybook digest` says who changed the table (README, "Who changed it").
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The table (schema.table).", valueName: "table"))
    var table: String

    @Argument(help: ArgumentHelp("counts, keys or values (leave out to change only --attribute).", valueName: "level"))
    var level: CaptureLevel?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Attribute the table's changes to the role and application of each statement (a statement trigger; "
                + "--no-attribute removes it). daybook.act_as works either way."
        )
    )
    var attribute: Bool?

    @Option(name: .long, help: "The publication whose column list follows the level.")
    var publication: String = "daybook"

    @Option(name: .long, parsing: .upToNextOption, help: "At values: capture only these columns (the key always).")
    var columns: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "At values: never capture these columns.")
    var excludeColumns: [String] = []

    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "At values: store these columns as keyed hashes (HMAC-SHA256 under --key-file), never their values."
    )
    var hash: [String] = []

    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "At values: show these columns as (masked), never keeping their values (changes still show)."
    )
    var mask: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The key of --hash and --mask: a file of at least 32 bytes (openssl rand -hex 32 > FILE).",
            valueName: "file"
        )
    )
    var keyFile: String?

    func validate() throws {
        if level == nil && attribute == nil {
            throw ValidationError("give a level (counts, keys or values), --attribute or --no-attribute")
        }
        if level == nil && (!columns.isEmpty || !excludeColumns.isEmpty || !hash.isEmpty || !mask.isEmpty) {
            throw ValidationError("--columns, --exclude-columns, --hash and --mask go with the level values")
        }
    }

    func run() throws {
        try reportingErrors {
            let source = try connect(connection.writableSource, role: .source)
            if let attribute {
                for note in try SourceAttribution.setTrigger(on: [table], attached: attribute, connection: source) {
                    print(note)
                }
            }
            guard let level else { return }
            let sink = try connect(connection.sinkConnection, role: .sink)
            var request = CaptureSetting.Request(slot: connection.slot, tables: [table], level: level)
            request.columns = columns.isEmpty ? nil : columns
            request.excludedColumns = excludeColumns
            request.hashedColumns = hash
            request.maskedColumns = mask
            request.keyFile = keyFile
            request.publication = publication
            for note in try CaptureSetting.apply(request, source: source, sink: sink) { print(note) }
        }
    }
}
