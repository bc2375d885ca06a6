import DaybookCore
import PostgresReplication

extension PostgresConnection {
    /// Opens a connection to the `role` database, turning a failure into
    /// the advice an operator needs (``DaybookError/from(_:role:)``): the one way every command,
    /// the pipeline and the HTTP side connect.
    public static func open(
        _ string: ConnectionString,
        role: DatabaseRole,
        replication: Bool = false,
        applicationName: String = "daybook"
    ) throws(DaybookError) -> PostgresConnection {
        do { return try PostgresConnection(string, replication: replication, applicationName: applicationName) } catch {
            throw DaybookError.from(error, role: role)
        }
    }
}
