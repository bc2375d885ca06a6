import DaybookTestSupport
import Foundation
import Testing

/// A checkpoint with many value events writes them on a second sink connection, committed just
/// before the checkpoint itself (`EventsAheadWriter`). Here the sink refuses, once, the
/// checkpoint that follows events committed ahead: the events are in, their checkpoint is not.
/// The next run must delete them and take them again from the slot: none lost, none doubled.
@Suite(.serialized)
struct EventsAheadTests {
    @Test func eventsCommittedAheadOfACheckpointThatFailedAreNeitherLostNorDoubled() throws {
        let database = try TestDatabase("events_ahead")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        try Self.prepare(database)
        // The sink is this database: a checkpoint that moves past events marked pending fails
        // once, saying how many events its slot holds past the last checkpoint at that moment.
        try database.connection.simpleQuery(
            """
            CREATE SEQUENCE public.events_ahead_failures;
            CREATE FUNCTION public.fail_checkpoint_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.lsn > OLD.lsn AND OLD.pending_lsn IS NOT NULL
                   AND nextval('public.events_ahead_failures') = 1 THEN
                    RAISE EXCEPTION 'injected failure with % events ahead',
                        (SELECT count(*) FROM daybook.value_events WHERE slot_name = NEW.slot_name AND lsn >= OLD.lsn);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_checkpoint_once BEFORE UPDATE ON daybook.checkpoint
                FOR EACH ROW EXECUTE FUNCTION public.fail_checkpoint_once();
            """
        )
        try Self.writeEvents(database)

        var logs = ""
        var finished = false
        for _ in 0..<3 where !finished {
            let run = try DaybookProcess.run(
                Workload.runArguments(database, extra: ["--until-caught-up"]),
                environment: environment
            )
            logs += run.stderr
            finished = run.status == 0
        }
        #expect(finished, "\(logs.suffix(4000))")
        #expect(logs.contains("value events of large checkpoints go on a second sink connection"))
        // The failure came after the events were in: at least the first checkpoint's 4,000.
        let injected = try #require(
            logs.range(of: #"injected failure with (\d+) events ahead"#, options: .regularExpression),
            "the checkpoint after events written ahead failed once: \(logs.suffix(4000))"
        )
        let ahead = Int(logs[injected].split(separator: " ")[3]) ?? 0
        #expect(ahead >= 4_000, "\(logs[injected])")

        try Self.expectEveryEventOnce(database)
        let pendingCleared = try database.scalar(
            "SELECT pending_lsn IS NULL FROM daybook.checkpoint WHERE slot_name = $1",
            [database.name]
        )
        #expect(pendingCleared == "t")
    }

    private static func prepare(_ database: TestDatabase) throws {
        try Workload.prepare(
            source: database.connection,
            environment: ["DAYBOOK_DATABASE": database.connectionString],
            slot: database.name,
            valuesTables: ["app.pairs"]
        )
    }

    /// 5,500 events of `app.pairs`, 4,000 in one transaction (one checkpoint, over the second
    /// connection's minimum), then a heartbeat past the 2 s window and its 1 s grace: the run
    /// closes the day, so its events are folded per key (`daybook.key_events`) for comparing.
    private static func writeEvents(_ database: TestDatabase) throws {
        try database.connection.simpleQuery(
            "INSERT INTO app.pairs SELECT g, 'ahead', g FROM generate_series(1, 4000) g"
        )
        try database.connection.simpleQuery("UPDATE app.pairs SET v = v + 1 WHERE b = 'ahead' AND a <= 1500")
        Thread.sleep(forTimeInterval: 3.5)
        let heartbeat = try DaybookProcess.run(
            ["heartbeat", "--quiet"],
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(heartbeat.status == 0, "\(heartbeat.stderr)")
    }

    /// Every event once: equal, in content, to the database's own record, and none twice.
    private static func expectEveryEventOnce(_ database: TestDatabase) throws {
        let mismatches = try ValueAudit.mismatches(source: database.connection, sink: database.connection)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(
            try database.scalar(
                """
                SELECT count(*) - count(DISTINCT (table_name, key, lsn, seq)) FROM daybook.value_events
                 WHERE slot_name = $1
                """,
                [database.name]
            ) == "0"
        )
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.value_events WHERE slot_name = $1 AND key LIKE '%ahead%'",
                [database.name]
            ) == "5500"
        )
    }

    /// A sink role that may open two connections only: the events go on the sink's own, one
    /// notice line says so, and every event is in once.
    @Test func withoutASecondSinkConnectionTheEventsGoOnTheFirst() throws {
        let database = try TestDatabase("events_onecon")
        try Self.prepare(database)
        // The writer's connection and the one that closes windows, and no third. A member of
        // the administrator's role, so that it may write to the sink's tables.
        let role = "dbk_sinklimit_\(database.name.suffix(8))"
        try database.admin.simpleQuery(
            "CREATE ROLE \(role) LOGIN PASSWORD 'sink-secret' CONNECTION LIMIT 2; GRANT postgres TO \(role)"
        )
        database.onDrop { try $0.simpleQuery("DROP ROLE IF EXISTS \(role)") }
        let sink = database.connectionString
            .replacingOccurrences(of: "user=postgres", with: "user=\(role)")
            .replacingOccurrences(of: "password=daybook-test-password", with: "password=sink-secret")
        try Self.writeEvents(database)

        let run = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--until-caught-up", "--sink", sink]),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(run.status == 0, "\(run.stderr.suffix(3000))")
        let notices = run.stderr.split(separator: "\n").filter {
            $0.contains("value events are written on the sink's one connection")
        }
        #expect(notices.count == 1, "\(run.stderr.suffix(3000))")
        #expect(notices.first?.contains("connections") == true, "\(notices)")
        #expect(!run.stderr.contains("go on a second sink connection"))
        try Self.expectEveryEventOnce(database)
    }
}
