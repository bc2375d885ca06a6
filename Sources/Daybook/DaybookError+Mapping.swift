import PostgresReplication

extension DaybookError {
    /// Runs `body`, passing a ``DaybookError`` through and turning a libpq error into advice
    /// about the `role` database ("source" or "sink"), so every entry point reports failures
    /// the same way.
    static func mapping<T>(role: String, _ body: () throws -> T) throws(DaybookError) -> T {
        do {
            return try body()
        } catch let error as DaybookError {
            throw error
        } catch let error as PostgresError {
            throw DaybookError.from(error, role: role)
        } catch {
            throw DaybookError(.query, "\(error)")
        }
    }
}

/// Checks shared by every command that needs logical decoding on the source.
enum SourceChecks {
    /// Fails with the fix unless the server runs with `wal_level = logical`.
    /// - Parameter consequence: what cannot work without it, for the message.
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
}
