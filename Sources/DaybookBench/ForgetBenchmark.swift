import Foundation
import PostgresReplication

/// How long `daybook forget` takes on a large sink: `days` closed days of a `values` table, each
/// with `keys` keys changed once (an event, a closed day's changed columns, and the keys' latest
/// images), written straight into a migrated sink and indexed as a close indexes them. Prints
/// the size of what the indexes forget needs cost, then each run's wall time for one key
/// (`--key`) and for one subject by value (`--column --value`), and the medians. The sink
/// takes about 0.85 GB a day of a million keys: 90 such days need about 77 GB of disk.
struct ForgetBenchmark {
    let environment: BenchEnvironment
    let tools: Tools
    var keys = 1_000_000
    var days = 90
    var runs = 5

    func run() throws {
        let sink = try environment.createSinkDatabase("bench_forget", daybook: tools.daybook)
        defer { environment.dropDatabase("bench_forget") }
        let connection = try PostgresConnection(ConnectionString(sink))
        let started = ContinuousClock.now
        try connection.simpleQuery(
            """
            INSERT INTO daybook.checkpoint (slot_name, lsn, stream_time, window_length, grace, time_zone)
            VALUES ('bench', '1/0', '2026-06-01'::timestamptz, '1d', '30 minutes', 'UTC');
            INSERT INTO daybook.capture (slot_name, table_name, level, since_lsn)
            VALUES ('bench', 'app.customers', 'values', '0/0');
            """
        )
        for day in 0..<days {
            let start = "'2026-06-01'::timestamptz - interval '\(days - day) days'"
            try connection.simpleQuery(
                """
                INSERT INTO daybook.windows (slot_name, window_start, window_end, closes_at, status, closed_at, closed_by)
                VALUES ('bench', \(start), \(start) + interval '1 day', \(start) + interval '1 day 30 minutes', 'closed',
                        \(start) + interval '1 day 31 minutes', 'heartbeat');
                SELECT daybook.ensure_window_partitions(\(start));
                INSERT INTO daybook.key_changes (slot_name, window_start, table_name, key, ops, first_change_at,
                                                 last_change_at, lsn, part, repeated)
                SELECT 'bench', \(start), 'app.customers', '{"id":"' || g || '"}', 'U', \(start) + interval '1 hour',
                       \(start) + interval '1 hour', '1/0', 0, false
                  FROM generate_series(1, \(keys)) g;
                INSERT INTO daybook.value_events (slot_name, window_start, table_name, key, lsn, seq, op, commit_time, new_row)
                SELECT 'bench', \(start), 'app.customers', '{"id":"' || g || '"}', '1/0', g::integer, 'U',
                       \(start) + interval '1 hour',
                       '{"id":"' || g || '","email":"user' || g || '@example.org","name":"Customer ' || g || '","visits":"\(day)"}'
                  FROM generate_series(1, \(keys)) g;
                INSERT INTO daybook.key_values (slot_name, window_start, table_name, key, before_image, changed, events)
                SELECT 'bench', \(start), 'app.customers', ('{"id":"' || g || '"}')::jsonb, 'known',
                       ('{"visits":{"before":"' || \(max(day - 1, 0)) || '","after":"\(day)"}}')::jsonb, 1
                  FROM generate_series(1, \(keys)) g;
                SELECT daybook.index_closed_window(\(start));
                """
            )
        }
        try connection.simpleQuery(
            """
            INSERT INTO daybook.key_images (slot_name, table_name, key, lsn, seq, image)
            SELECT 'bench', 'app.customers', '{"id":"' || g || '"}', '1/0', g::integer,
                   '{"id":"' || g || '","email":"user' || g || '@example.org","name":"Customer ' || g || '","visits":"\(days)"}'
              FROM generate_series(1, \(keys)) g;
            ANALYZE daybook.key_values;
            ANALYZE daybook.key_images;
            """
        )
        say(
            "\n## forget: \(days) closed days of \(keys.formatted()) keys each (\((days * keys).formatted()) events), "
                + "written in \(format(seconds(ContinuousClock.now - started))) s"
        )
        let sizes = try connection.query(
            """
            SELECT pg_size_pretty(pg_relation_size('daybook.key_values_key')),
                   pg_size_pretty(pg_total_relation_size('daybook.key_values')),
                   pg_size_pretty((SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i
                                     JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'value_events_%_keys')),
                   pg_size_pretty((SELECT sum(pg_relation_size(c.oid)) FROM pg_class c
                                    WHERE c.relname LIKE 'value_events_2%' AND c.relkind = 'r')),
                   pg_size_pretty(pg_relation_size('daybook.key_images')),
                   pg_size_pretty(pg_database_size(current_database()))
            """
        ).rows.first
        say(
            "index key_values_key (the one forget adds): \(sizes?[0] ?? "?") (key_values with its indexes: \(sizes?[1] ?? "?")); "
                + "value_events' per-day key indexes (made at close): \(sizes?[2] ?? "?") beside \(sizes?[3] ?? "?") of events; "
                + "latest images (read by forget --column): \(sizes?[4] ?? "?"); the whole sink: \(sizes?[5] ?? "?")"
        )
        let environmentVariables = ["DAYBOOK_SINK": sink, "DAYBOOK_DATABASE": sink, "DAYBOOK_SLOT": "bench"]
        var byKey: [Double] = []
        var byValue: [Double] = []
        say("run | forget --key s | forget --column --value s")
        for run in 1...runs {
            let key = 1 + (run * 7919) % keys
            let one = try timed(
                ["forget", "--table", "app.customers", "--key", "{\"id\": \"\(key)\"}"],
                environmentVariables
            )
            let subject = try timed(
                ["forget", "--column", "email", "--value", "user\(key + 1)@example.org"],
                environmentVariables
            )
            byKey.append(one)
            byValue.append(subject)
            say("\(run) | \(format(one)) | \(format(subject))")
        }
        say("median | \(format(median(byKey))) | \(format(median(byValue)))")
    }

    /// Wall seconds of one `daybook` command, which must erase something.
    private func timed(_ arguments: [String], _ variables: [String: String]) throws -> Double {
        let started = ContinuousClock.now
        let result = try MeasuredProcess.run(tools.daybook, arguments, environment: variables)
        guard result.status == 0 else { throw BenchError("daybook \(arguments[0]) exited with \(result.status)") }
        return seconds(ContinuousClock.now - started)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
