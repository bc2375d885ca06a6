import DaybookTestSupport

extension Workload {
    /// Tables, audit triggers, sink schema, publication and slot in a test database.
    static func prepare(_ database: TestDatabase) throws {
        try prepare(
            source: database.connection,
            environment: ["DAYBOOK_DATABASE": database.connectionString],
            slot: database.name
        )
    }

    /// The arguments of a `daybook run` with short windows for this database.
    static func runArguments(_ database: TestDatabase, extra: [String] = []) -> [String] {
        [
            "run", "--slot", database.name, "--window", "2s", "--grace", "1s", "--checkpoint-every", "200ms",
            "--log-level", "debug",
        ] + extra
    }
}
