import Foundation
import PostgresReplication

/// How long `daybook digest` takes on a large sink: a closed day of `keys` keys over `tables`
/// tables with `days` days of history before it, written straight into a migrated sink (the
/// digest reads only the sink). Prints each run's wall time and the median.
struct DigestBenchmark {
    let environment: BenchEnvironment
    let tools: Tools
    var keys = 10_000_000
    var tables = 200
    var days = 90
    var runs = 5

    func run() throws {
        let sink = try environment.createSinkDatabase("bench_digest", daybook: tools.daybook)
        defer { environment.dropDatabase("bench_digest") }
        let connection = try PostgresConnection(ConnectionString(sink))
        let started = ContinuousClock.now
        // The day is 2026-06-01 (a Monday); its history the `days` days before.
        let day = "2026-06-01"
        let perTable = keys / tables
        try connection.simpleQuery(
            """
            INSERT INTO daybook.checkpoint (slot_name, lsn, stream_time, window_length, grace, time_zone)
            VALUES ('bench', '1/0', '\(day)'::timestamptz + interval '1 day 1 hour', '1d', '30 minutes', 'UTC');
            INSERT INTO daybook.windows (slot_name, window_start, window_end, closes_at, status, closed_at, closed_by)
            SELECT 'bench', d, d + interval '1 day', d + interval '1 day 30 minutes', 'closed', d + interval '1 day 31 minutes',
                   'heartbeat'
              FROM generate_series('\(day)'::timestamptz - interval '\(days) days', '\(day)'::timestamptz, interval '1 day') d;
            -- Every table: a steady history around its own level, with noise; on the day, table 7
            -- deletes twenty times its usual, table 13 is silent, table 21 is truncated.
            INSERT INTO daybook.table_windows (slot_name, window_start, window_end, table_name, inserts, updates, deletes,
                                               truncates, transactions, keys, first_change_at, last_change_at, source_rows)
            SELECT 'bench', d, d + interval '1 day', 'app.table_' || t,
                   CASE WHEN d = '\(day)' AND t = 13 THEN 0 ELSE 1000 + t * 10 + (hashint8(t * 100000 + extract(doy FROM d)::bigint) % 100) END,
                   CASE WHEN d = '\(day)' AND t = 13 THEN 0 ELSE \(perTable) END,
                   CASE WHEN d = '\(day)' AND t = 7 THEN 20 * (200 + t) WHEN d = '\(day)' AND t = 13 THEN 0 ELSE 200 + t END,
                   CASE WHEN d = '\(day)' AND t = 21 THEN 1 ELSE 0 END,
                   100, \(perTable), d + interval '1 minute', d + interval '23 hours', 1000000
              FROM generate_series('\(day)'::timestamptz - interval '\(days) days', '\(day)'::timestamptz, interval '1 day') d,
                   generate_series(1, \(tables)) t;
            SELECT daybook.ensure_window_partitions('\(day)'::timestamptz);
            """
        )
        // The day's per-key rows: `keys` keys, one row each (as a closed window holds them).
        let batch = 1_000_000
        var written = 0
        while written < keys {
            let count = min(batch, keys - written)
            try connection.query(
                """
                INSERT INTO daybook.key_changes (slot_name, window_start, table_name, key, ops, first_change_at, last_change_at,
                                                 lsn, part, repeated)
                SELECT 'bench', '\(day)'::timestamptz, 'app.table_' || (1 + g % \(tables)), '{"id":"' || g || '"}',
                       CASE WHEN g % 97 = 0 THEN 'IUUUUD' WHEN g % 3 = 0 THEN 'IU' ELSE 'U' END,
                       '\(day)'::timestamptz + interval '1 minute', '\(day)'::timestamptz + interval '2 hours', '1/0', 0, false
                  FROM generate_series($1::bigint, $2::bigint) g
                """,
                [String(written + 1), String(written + count)]
            )
            written += count
        }
        try connection.simpleQuery(
            """
            SELECT daybook.index_closed_window('\(day)'::timestamptz);
            INSERT INTO daybook.actor_windows (slot_name, window_start, table_name, actor, application, origin, changes)
            SELECT 'bench', '\(day)'::timestamptz, 'app.table_' || t, 'user' || a || '@example.com', 'web', '', 10 * a
              FROM generate_series(1, \(tables)) t, generate_series(1, 20) a;
            INSERT INTO daybook.table_shapes (slot_name, relid, lsn, commit_time, schema_name, table_name, replica_identity, columns)
            SELECT 'bench', 16384 + t, '0/1', '\(day)'::timestamptz - interval '\(days) days', 'app', 'table_' || t, 'd',
                   '[{"name":"id","type":20,"typmod":-1,"key":true},{"name":"note","type":25,"typmod":-1,"key":false}]'
              FROM generate_series(1, \(tables)) t;
            INSERT INTO daybook.table_shapes (slot_name, relid, lsn, commit_time, schema_name, table_name, replica_identity, columns)
            VALUES ('bench', 16384 + 3, '0/2', '\(day)'::timestamptz + interval '9 hours', 'app', 'table_3', 'd',
                    '[{"name":"id","type":20,"typmod":-1,"key":true},{"name":"note","type":25,"typmod":-1,"key":false},{"name":"due","type":1082,"typmod":-1,"key":false}]');
            ANALYZE;
            """
        )
        say(
            "\n## daybook digest of a day of \(keys.formatted()) keys over \(tables) tables with \(days) days of history "
                + "(sink written in \(format((ContinuousClock.now - started).seconds)) s)"
        )
        say("run | wall s | output bytes")
        var walls: [Double] = []
        let output = "\(tools.logDirectory)/digest.json"
        for run in 1...runs {
            try? FileManager.default.removeItem(atPath: output)
            let measured = try MeasuredProcess.run(
                tools.daybook,
                ["digest", "--slot", "bench", "--date", day, "--format", "json", "--sink", sink],
                logFile: output
            )
            guard measured.status == 0 else {
                throw BenchError("daybook digest failed (exit \(measured.status), see \(output))")
            }
            walls.append(measured.wall)
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            say("\(run) | \(format(measured.wall)) | \(size.formatted())")
        }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let flagged = [
            "\"unusual\":[\"app.table_7\"]", "\"silent\":[\"app.table_13\"]",
            "\"kind\":\"truncate\",\"table\":\"app.table_21\"",
        ]
        .filter { text.contains($0) }
        say(
            "median \(format(walls.sorted()[walls.count / 2])) s; the digest found \(flagged.count) of the 3 planted "
                + "anomalies (a 20× delete spike, a silent table, a TRUNCATE)"
        )
    }
}
