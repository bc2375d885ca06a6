import ArgumentParser
import Daybook
import Foundation

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the daybook schema in the sink database.",
        discussion: """
            Applies the SQL files of migrations/ in order, each once, each in its own transaction, and records \
            them in daybook.schema_migrations. Running it again does nothing.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(
        name: .long,
        help: """
            Folder of migration files (default: $DAYBOOK_MIGRATIONS, then PREFIX/share/daybook/migrations for \
            PREFIX/bin/daybook, as the package installs them, then the copy built beside the binary).
            """
    )
    var migrations: String?

    func run() throws {
        try reportingErrors {
            let migrator = try Migrator(directory: migrations.map { URL(fileURLWithPath: $0) })
            let sink = try connect(connection.sinkConnection, role: .sink)
            let applied = try migrator.apply(to: sink)
            if applied.isEmpty {
                print("sink schema is up to date (version \(migrator.latestVersion))")
            } else {
                for name in applied { print("applied \(name)") }
            }
        }
    }
}
