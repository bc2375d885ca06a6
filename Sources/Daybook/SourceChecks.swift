import PostgresReplication

/// Checks shared by every command that needs logical decoding on the source.
enum SourceChecks {
    /// Fails with the fix unless the server runs with `wal_level = logical`.
    /// - Parameter consequence: what cannot work without it, for the message.
    /// The oldest PostgreSQL major version Daybook supports (as `server_version_num`): the
    /// oldest one the PostgreSQL project still maintains, and the oldest it is tested on.
    static let lowestSupportedVersion = 150_000

    /// Fails with the fix unless the server is a supported version.
    static func requireSupportedVersion(_ connection: PostgresConnection) throws(DaybookError) {
        try requireSupportedVersion(connection.serverVersion)
    }

    static func requireSupportedVersion(_ version: Int) throws(DaybookError) {
        guard version >= lowestSupportedVersion else {
            throw DaybookError(
                .unsupportedServer,
                "the source server is PostgreSQL \(versionText(version)); Daybook supports PostgreSQL "
                    + "\(lowestSupportedVersion / 10_000) and later: upgrade the server")
        }
    }

    /// `150004` as `15.4`, `90624` as `9.6.24`.
    static func versionText(_ version: Int) -> String {
        version >= 100_000 ? "\(version / 10_000).\(version % 10_000)" : "\(version / 10_000).\(version / 100 % 100).\(version % 100)"
    }

    static func requireLogicalDecoding(_ connection: PostgresConnection, consequence: String = "")
        throws(DaybookError)
    {
        let walLevel = try DaybookError.mapping(role: "source") {
            try connection.simpleQuery("SHOW wal_level").scalar ?? ""
        }
        guard walLevel == "logical" else {
            throw DaybookError(
                .notLogical,
                "the source server has wal_level=\(walLevel)\(consequence): set wal_level = logical in postgresql.conf and "
                    + "restart PostgreSQL")
        }
    }

    /// Whether a publication exists. Simple protocol, so it also works on a replication
    /// connection.
    static func publicationExists(_ connection: PostgresConnection, _ publication: String) throws(PostgresError) -> Bool {
        try !connection.simpleQuery(
            "SELECT 1 FROM pg_publication WHERE pubname = " + connection.quoteLiteral(publication)
        ).rows.isEmpty
    }

    /// Fails with the fix unless the publication exists.
    static func requirePublication(_ connection: PostgresConnection, _ publication: String) throws(DaybookError) {
        guard try DaybookError.mapping(role: "source", { try publicationExists(connection, publication) }) else {
            throw DaybookError(
                .publicationMissing,
                "publication \(publication) does not exist: run `daybook setup --publication \(publication)` first")
        }
    }

    /// Whether `daybook.heartbeat` is in the publication, so its updates reach the stream.
    static func heartbeatIsPublished(_ connection: PostgresConnection, _ publication: String) throws(PostgresError) -> Bool {
        try !connection.simpleQuery(
            "SELECT 1 FROM pg_publication_tables WHERE pubname = " + connection.quoteLiteral(publication)
                + " AND schemaname = 'daybook' AND tablename = 'heartbeat'"
        ).rows.isEmpty
    }
}
