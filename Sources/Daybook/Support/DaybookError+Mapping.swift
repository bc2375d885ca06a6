import DaybookCore
import PostgresReplication

extension DaybookError {
    /// Runs `body`, passing a ``DaybookError`` through and turning a libpq error into advice
    /// about the `role` database, so every entry point reports failures the same way.
    static func mapping<T>(role: DatabaseRole, _ body: () throws -> T) throws(DaybookError) -> T {
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

    /// Turns a libpq error into advice about the `role` database: the one place where what
    /// libpq says becomes what an operator is told to do.
    public static func from(_ error: PostgresError, role: DatabaseRole) -> DaybookError {
        let text = error.message
        if error.code == .connection {
            if text.contains("password authentication failed") || text.contains("no password supplied") {
                if let problem = PasswordFileCheck.problem() {
                    return DaybookError(.authentication, "cannot log in to the \(role) database: \(text) — \(problem)")
                }
                return DaybookError(
                    .authentication,
                    "cannot log in to the \(role) database: \(text) — check the user and password "
                        + "(PGPASSWORD, PGPASSFILE, ~/.pgpass or the connection string)"
                )
            }
            if text.contains("must be superuser or replication role")
                || text.contains("permission denied to start WAL sender")
            {
                return DaybookError(
                    .permission,
                    "the \(role) role may not stream changes: \(text) — give it the REPLICATION attribute "
                        + "(ALTER ROLE … REPLICATION) or connect as a role that has it"
                )
            }
            if text.contains("rejects connection") && (text.contains("no encryption") || text.contains("SSL off")) {
                return DaybookError(
                    .connection,
                    "the \(role) server accepts only TLS connections: \(text) — add sslmode=require (or verify-full with "
                        + "sslrootcert) to the connection string"
                )
            }
            if text.contains("no pg_hba.conf entry") {
                return DaybookError(
                    .authentication,
                    "the \(role) server does not let this role connect: \(text) — add a matching line to pg_hba.conf "
                        + "(a `host` line covers replication=database connections too) and reload PostgreSQL"
                )
            }
            if text.contains("role") && text.contains("does not exist") {
                return DaybookError(
                    .authentication,
                    "cannot log in to the \(role) database: \(text) — check the user name"
                )
            }
            if text.contains("Peer authentication failed") || text.contains("Ident authentication failed") {
                return DaybookError(
                    .authentication,
                    "cannot log in to the \(role) database: \(text) — connect over TCP (host=127.0.0.1) with a password, "
                        + "or as the matching operating-system user"
                )
            }
            if text.contains("does not exist") && text.contains("database") {
                return DaybookError(
                    .connection,
                    "cannot connect to the \(role) database: \(text) — check the database name"
                )
            }
            return DaybookError(
                .connection,
                "cannot reach the \(role) database: \(text) — check that PostgreSQL is running and the host and port "
                    + "(--database / --sink, or PGHOST and PGPORT)",
                retryable: true
            )
        }
        switch error.sqlState {
        case "55006":
            return DaybookError(
                .slotInUse,
                "\(text) — another consumer (perhaps another daybook run) is using the slot; stop it first",
                retryable: true
            )
        case "42501":
            return DaybookError(
                .permission,
                "permission denied in the \(role) database: \(text) — see the README's section on roles"
            )
        case "57P01", "57P02", "57P03", "08006", "08003", "08000":
            return DaybookError(.connection, "the \(role) database went away: \(text)", retryable: true)
        case let state? where state.hasPrefix("40") || state.hasPrefix("53") || state == "55P03" || state == "57014":
            // Deadlocks, serialization failures, lock timeouts, cancels, full disks: worth waiting out.
            return DaybookError(
                .query,
                "the \(role) database could not finish a statement: \(error.description)",
                retryable: true
            )
        default:
            if error.code == .replication {
                return DaybookError(.connection, "the replication stream stopped: \(text)", retryable: true)
            }
            return DaybookError(.query, "the \(role) database refused a statement: \(error.description)")
        }
    }
}
