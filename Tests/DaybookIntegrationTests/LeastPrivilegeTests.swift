import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Daybook runs with the least privilege the README documents: a source role with
/// REPLICATION (and UPDATE on the heartbeat row), a sink role that owns only the daybook
/// schema. Results stay exact.
@Suite(.serialized)
struct LeastPrivilegeTests {
    @Test func sourceAndSinkRolesWithTheDocumentedPrivilegesSuffice() throws {
        let database = try TestDatabase("leastpriv")
        let suffix = database.name.suffix(8)
        let source = "dbk_src_\(suffix)"
        let sink = "dbk_sink_\(suffix)"
        try database.admin.simpleQuery(
            """
            CREATE ROLE \(source) LOGIN REPLICATION PASSWORD 'source-secret';
            CREATE ROLE \(sink) LOGIN PASSWORD 'sink-secret';
            """
        )
        defer {
            _ = try? database.admin.simpleQuery("DROP DATABASE IF EXISTS \(database.name) WITH (FORCE)")
            _ = try? database.admin.simpleQuery("DROP ROLE IF EXISTS \(source); DROP ROLE IF EXISTS \(sink)")
        }
        // The administrator: the sink schema for the sink role, the tables, publication and slot.
        try database.execute("CREATE SCHEMA daybook AUTHORIZATION \(sink)")
        try database.execute(IndependentCount.installSQL)
        try database.execute(Workload.schemaSQL)
        for (table, columns) in Workload.keyColumns {
            try database.execute(IndependentCount.auditSQL(table: table, keyColumns: columns))
        }
        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--schemas", "app"],
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(setup.status == 0, "\(setup.stderr)")
        try database.execute(
            """
            GRANT USAGE ON SCHEMA app TO \(source);
            GRANT SELECT ON ALL TABLES IN SCHEMA app TO \(source);
            GRANT USAGE ON SCHEMA daybook TO \(source);
            GRANT SELECT, UPDATE ON daybook.heartbeat TO \(source);
            """
        )
        func connection(_ role: String, _ password: String) -> String {
            database.connectionString
                .replacingOccurrences(of: "user=postgres", with: "user=\(role)")
                .replacingOccurrences(of: "password=daybook-test-password", with: "password=\(password)")
        }
        let environment = [
            "DAYBOOK_DATABASE": connection(source, "source-secret"), "DAYBOOK_SINK": connection(sink, "sink-secret"),
        ]
        // The sink role owns the schema, so it applies the migrations itself.
        let migrate = try DaybookProcess.run(["migrate"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(try database.scalar("SELECT has_table_privilege($1, 'app.accounts', 'INSERT')", [sink]) == "f")
        #expect(
            try database.scalar(
                "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = $1",
                [source]
            ) == "f"
        )

        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { service.stop() }
        var random = SeededRandom(seed: 3)
        for _ in 0..<30 { try Workload.randomTransaction(database.connection, random: &random) }
        try waitUntil("windows close with least-privilege roles", log: service) {
            let beat = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            guard beat.status == 0 else { throw SupportError("heartbeat failed: \(beat.stderr)") }
            return try IndependentCount.unclosedWindows(database.connection, windowSeconds: 2) == 0
        }
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        let report = try DaybookProcess.run(["report", "--slot", database.name], environment: environment)
        #expect(report.status == 0, "\(report.stderr)")
        let status = try DaybookProcess.run(["status", "--slot", database.name], environment: environment)
        #expect(status.status == 0, "\(status.stderr)")

        // A catch-up run reads its backlog through SQL decoding with the same roles.
        _ = service.stop()
        for _ in 0..<30 { try Workload.randomTransaction(database.connection, random: &random) }
        let catchUp = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--until-caught-up"]),
            environment: environment
        )
        #expect(catchUp.status == 0, "\(catchUp.stderr.suffix(3000))")
        #expect(catchUp.stderr.contains("reading the backlog through SQL decoding"), "\(catchUp.stderr.suffix(3000))")
        #expect(!catchUp.stderr.contains("backlog mode unavailable"))
        #expect(catchUp.stderr.contains("caught up"))
    }
}
