import ArgumentParser
import Daybook

struct SetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create the heartbeat table, the publication and the replication slot in the source database.",
        discussion: """
            Publishes every table of the given schemas (default: public), or exactly --tables, plus \
            daybook.heartbeat. Safe to run again: what exists is left as it is (the heartbeat table is added \
            to an existing publication if missing). Needs a role that may create publications and slots \
            (REPLICATION, or superuser).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "Publication name.")
    var publication: String = "daybook"

    @Option(name: .long, parsing: .upToNextOption, help: "Publish all tables of these schemas (default: public).")
    var schemas: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Publish exactly these tables (schema.table).")
    var tables: [String] = []

    func validate() throws {
        if !schemas.isEmpty && !tables.isEmpty {
            throw ValidationError("give --schemas or --tables, not both")
        }
    }

    func run() throws {
        try reportingErrors {
            let source = try connect(connection.source, role: "source")
            let notes = try SourceSetup.run(
                on: source,
                options: .init(slot: connection.slot, publication: publication, schemas: schemas, tables: tables))
            for note in notes { print(note) }
        }
    }
}
