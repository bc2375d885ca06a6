import DaybookCore
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
                    + "\(lowestSupportedVersion / 10_000) and later: upgrade the server"
            )
        }
    }

    /// `150004` as `15.4`, `90624` as `9.6.24`.
    static func versionText(_ version: Int) -> String {
        version >= 100_000
            ? "\(version / 10_000).\(version % 10_000)" : "\(version / 10_000).\(version / 100 % 100).\(version % 100)"
    }

    /// The oldest version with failover slots (`failover => true`, `sync_replication_slots`).
    static let lowestFailoverSlotVersion = 170_000

    /// The oldest version that decodes on a physical standby.
    static let lowestStandbyDecodingVersion = 160_000

    /// Whether the server is a physical standby (in recovery). Simple protocol, so it also
    /// works on a replication connection.
    static func isStandby(_ connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.simpleQuery("SELECT pg_is_in_recovery()").scalar == "t"
    }

    /// Fails with the fix unless a standby can decode: PostgreSQL 16 or later, and
    /// `hot_standby_feedback` on (without it the primary's vacuum removes catalog rows the
    /// slot still needs, and the standby invalidates the slot).
    static func requireDecodingStandby(_ connection: PostgresConnection) throws(DaybookError) {
        let version = connection.serverVersion
        guard version >= lowestStandbyDecodingVersion else {
            throw DaybookError(
                .unsupportedServer,
                "the source server is a standby running PostgreSQL \(versionText(version)); logical decoding on a standby "
                    + "needs PostgreSQL 16 or later: point --database at the primary, or upgrade"
            )
        }
        let feedback = try DaybookError.mapping(role: .source) {
            try connection.simpleQuery("SHOW hot_standby_feedback").scalar
        }
        guard feedback == "on" else {
            throw DaybookError(
                .standbyNotReady,
                "the source server is a standby with hot_standby_feedback = off: its primary would remove rows the slot "
                    + "needs and the slot would be invalidated; set hot_standby_feedback = on on the standby (with "
                    + "primary_slot_name set) and reload it"
            )
        }
    }

    static func requireLogicalDecoding(
        _ connection: PostgresConnection,
        consequence: String = ""
    )
        throws(DaybookError)
    {
        let walLevel = try DaybookError.mapping(role: .source) {
            try connection.simpleQuery("SHOW wal_level").scalar ?? ""
        }
        guard walLevel == "logical" else {
            throw DaybookError(
                .notLogical,
                "the source server has wal_level=\(walLevel)\(consequence): set wal_level = logical in postgresql.conf and "
                    + "restart PostgreSQL"
            )
        }
    }

    /// Whether a publication exists. Simple protocol, so it also works on a replication
    /// connection.
    static func publicationExists(_ connection: PostgresConnection, _ publication: String) throws(PostgresError) -> Bool
    {
        try !connection.simpleQuery(
            "SELECT 1 FROM pg_publication WHERE pubname = " + connection.quoteLiteral(publication)
        ).rows.isEmpty
    }

    /// Fails with the fix unless the publication exists.
    static func requirePublication(_ connection: PostgresConnection, _ publication: String) throws(DaybookError) {
        guard try DaybookError.mapping(role: .source, { try publicationExists(connection, publication) }) else {
            throw DaybookError(
                .publicationMissing,
                "publication \(publication) does not exist: run `daybook setup --publication \(publication)` first"
            )
        }
    }

    /// Whether `daybook.heartbeat` is in the publication, so its updates reach the stream.
    static func heartbeatIsPublished(
        _ connection: PostgresConnection,
        _ publication: String
    ) throws(PostgresError) -> Bool {
        try !connection.simpleQuery(
            "SELECT 1 FROM pg_publication_tables WHERE pubname = " + connection.quoteLiteral(publication)
                + " AND schemaname = 'daybook' AND tablename = 'heartbeat'"
        ).rows.isEmpty
    }
}
