import DaybookCore
import Foundation
import PostgresReplication

/// Applies the SQL files in `migrations/` to the sink, in order, each once.
///
/// Each file runs in its own transaction together with its row in
/// `daybook.schema_migrations`, under an advisory lock, so concurrent or repeated runs are
/// harmless.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    public let migrations: [Migration]

    /// The schema version this build reads and writes. Bump it with each new file in
    /// `migrations/` (a unit test checks that they agree). It is a constant so that `run`,
    /// `report` and `status` can check the sink without reading the migration files.
    public static let schemaVersion = 20

    /// The newest version among the migration files found.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Loads migrations from `directory`, else from `$DAYBOOK_MIGRATIONS`, else from the first
    /// of ``installedFolders()`` that exists. A folder named by the operator is used or refused,
    /// never passed over for another.
    public init(directory: URL? = nil) throws(DaybookError) {
        let folder: URL
        if let directory {
            folder = directory
        } else if let environment = ProcessInfo.processInfo.environment["DAYBOOK_MIGRATIONS"], !environment.isEmpty {
            folder = URL(fileURLWithPath: environment)
        } else {
            let candidates = Self.installedFolders()
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
                throw DaybookError(
                    .configuration,
                    "cannot find the migrations folder (looked in "
                        + candidates.map(\.path).joined(separator: ", ")
                        + "); pass --migrations or set DAYBOOK_MIGRATIONS to this release's migrations/"
                )
            }
            folder = found
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
                .sorted()
        } catch {
            throw DaybookError(
                .configuration,
                "cannot read migrations from \(folder.path): \(error.localizedDescription)"
            )
        }
        var migrations: [Migration] = []
        for name in names {
            guard let version = Int(name.prefix { $0.isNumber }) else { continue }
            guard let sql = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else {
                throw DaybookError(.configuration, "cannot read migration \(name)")
            }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        self.migrations = migrations
    }

    /// Where `daybook migrate` looks without `--migrations` or `$DAYBOOK_MIGRATIONS`, in order:
    /// - `../share/daybook/migrations` beside the executable's folder, where the Debian package
    ///   (`/usr/bin` → `/usr/share/daybook/migrations`) and `make install`-style layouts put them;
    /// - the resource bundle SwiftPM builds next to the executable (a build from source).
    ///
    /// The bundle is found by path rather than through `Bundle.module`, whose accessor stops
    /// the process when the bundle is missing (an installed binary has none).
    public static func installedFolders() -> [URL] {
        var folders: [URL] = []
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            let binFolder = executable.deletingLastPathComponent()
            folders.append(
                binFolder.deletingLastPathComponent().appendingPathComponent("share/daybook/migrations")
            )
            folders.append(binFolder.appendingPathComponent("Daybook_Daybook.resources/migrations"))
        }
        return folders
    }

    /// The sink's current schema version (0 when never migrated).
    public static func currentVersion(of connection: PostgresConnection) throws(PostgresError) -> Int {
        let exists = try connection.query("SELECT to_regclass('daybook.schema_migrations') IS NOT NULL").scalar == "t"
        guard exists else { return 0 }
        return Int(
            try connection.query("SELECT coalesce(max(version), 0) FROM daybook.schema_migrations").scalar ?? "0"
        ) ?? 0
    }

    /// Applies what is missing.
    /// - Returns: the names of the migrations applied now.
    @discardableResult
    public func apply(to connection: PostgresConnection) throws(DaybookError) -> [String] {
        try DaybookError.mapping(role: .sink) {
            try connection.simpleQuery("SELECT pg_advisory_lock(hashtext('daybook.migrate'))")
            defer { _ = try? connection.simpleQuery("SELECT pg_advisory_unlock(hashtext('daybook.migrate'))") }
            try connection.simpleQuery(
                """
                DO $$ BEGIN
                    -- Only when missing: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the
                    -- database, which a sink role that merely owns the schema lacks.
                    IF to_regnamespace('daybook') IS NULL THEN CREATE SCHEMA daybook; END IF;
                END $$;
                CREATE TABLE IF NOT EXISTS daybook.schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
                """
            )
            guard latestVersion >= Self.schemaVersion else {
                throw DaybookError(
                    .configuration,
                    "the migrations folder goes up to version \(latestVersion), but this daybook needs "
                        + "\(Self.schemaVersion): point DAYBOOK_MIGRATIONS or --migrations at this release's migrations/"
                )
            }
            let current = try Self.currentVersion(of: connection)
            if current > latestVersion {
                throw DaybookError(
                    .sinkNewer,
                    "the sink's schema is version \(current), newer than this daybook (\(latestVersion)); upgrade daybook"
                )
            }
            var applied: [String] = []
            for migration in migrations where migration.version > current {
                try connection.simpleQuery("BEGIN")
                do {
                    try connection.simpleQuery(migration.sql)
                    try connection.query(
                        "INSERT INTO daybook.schema_migrations (version, name) VALUES ($1, $2)",
                        [String(migration.version), migration.name]
                    )
                    try connection.simpleQuery("COMMIT")
                } catch {
                    _ = try? connection.simpleQuery("ROLLBACK")
                    throw DaybookError(.query, "migration \(migration.name) failed: \(error)")
                }
                applied.append(migration.name)
            }
            return applied
        }
    }

    /// Fails with advice unless the sink is at exactly this build's version.
    public static func requireCurrent(_ connection: PostgresConnection) throws(DaybookError) {
        let latestVersion = schemaVersion
        let version: Int
        do { version = try Self.currentVersion(of: connection) } catch { throw DaybookError.from(error, role: .sink) }
        if version < latestVersion {
            throw DaybookError(
                .sinkNotMigrated,
                "the sink database has Daybook schema version \(version), this daybook needs \(latestVersion): run `daybook migrate` first"
            )
        }
        if version > latestVersion {
            throw DaybookError(
                .sinkNewer,
                "the sink's schema is version \(version), newer than this daybook (\(latestVersion)); upgrade daybook"
            )
        }
    }
}
