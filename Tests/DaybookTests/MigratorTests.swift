import Daybook
import DaybookCore
import Foundation
import Testing

struct MigratorTests {
    /// The bundled migration files are numbered 1...n without gaps, and n is the version the
    /// code checks the sink against.
    @Test func bundledMigrationsMatchTheSchemaVersion() throws {
        let migrator = try Migrator()
        #expect(migrator.migrations.map(\.version) == Array(1...Migrator.schemaVersion))
        #expect(migrator.latestVersion == Migrator.schemaVersion)
        #expect(migrator.migrations.allSatisfy { !$0.sql.isEmpty })
    }

    @Test func aMissingFolderIsAClearError() {
        #expect(throws: DaybookError.self) { try Migrator(directory: URL(fileURLWithPath: "/nonexistent/migrations")) }
    }

    /// Without a flag or `$DAYBOOK_MIGRATIONS`: `PREFIX/share/daybook/migrations` for
    /// `PREFIX/bin/daybook` (the package's layout) first, then SwiftPM's bundle beside the binary.
    @Test func anInstalledBinaryLooksInItsPrefixsShareFolderFirst() throws {
        let executable = try #require(Bundle.main.executableURL?.resolvingSymlinksInPath())
        let binFolder = executable.deletingLastPathComponent()
        #expect(
            Migrator.installedFolders().map(\.path) == [
                binFolder.deletingLastPathComponent().appendingPathComponent("share/daybook/migrations").path,
                binFolder.appendingPathComponent("Daybook_Daybook.resources/migrations").path,
            ]
        )
    }
}
