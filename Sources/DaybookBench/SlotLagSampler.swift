import Foundation
import PostgresReplication
import WAL

/// How far a slot's client trails the server, sampled every 50 ms, in seconds.
///
/// A lag at a sample is how long ago the server's current WAL position was where the client's
/// position is now: zero when the client has everything written, otherwise the age of the
/// oldest change it does not have yet. Two positions of the client are sampled:
/// - `confirmed`: the slot's confirmed position, what the client has made durable (for
///   Daybook: committed to the sink);
/// - `sent`: what the walsender has decoded and written to the client's socket. A client that
///   reads slower than the server decodes holds it back through the socket's buffers.
struct SlotLag {
    var confirmed: [Double] = []
    var sent: [Double] = []

    /// The `fraction` percentile of `lags`, or NaN when there are no samples.
    static func percentile(_ fraction: Double, of lags: [Double]) -> Double {
        let sorted = lags.sorted()
        return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    /// Samples `slot` on `source` until `seconds` have passed since `started`, keeping the
    /// samples after `warmUp` seconds. `tick` runs before each sample with the seconds passed
    /// (the lag benchmark moves the server's clock from there). Sample times are this process's
    /// own clock: the server's may jump a day.
    static func sample(
        _ slot: String,
        on source: String,
        from started: ContinuousClock.Instant,
        seconds: Int,
        warmUp: Double = 5,
        tick: (Double) throws -> Void = { _ in }
    ) throws -> SlotLag {
        let connection = try PostgresConnection(ConnectionString(source))
        var history: [(time: Double, lsn: LSN)] = []
        var lag = SlotLag()
        /// How long ago the server's position first reached `position`.
        func age(of position: LSN, current: LSN, at time: Double) -> Double {
            position >= current ? 0 : time - (history.first { $0.lsn >= position }?.time ?? time)
        }
        while ContinuousClock.now - started < .seconds(seconds) {
            try tick((ContinuousClock.now - started).seconds)
            let row = try connection.query(
                """
                SELECT pg_current_wal_lsn()::text, s.confirmed_flush_lsn::text, r.sent_lsn::text
                FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
                WHERE s.slot_name = $1
                """,
                [slot]
            ).rows.first
            let time = (ContinuousClock.now - started).seconds
            if let row, let current = row[0].flatMap(LSN.init), let confirmed = row[1].flatMap(LSN.init) {
                history.append((time, current))
                if time - history[0].time >= warmUp {
                    lag.confirmed.append(age(of: confirmed, current: current, at: time))
                    // No walsender at this sample (the client reconnects): nothing was sent.
                    lag.sent.append(age(of: row[2].flatMap(LSN.init) ?? confirmed, current: current, at: time))
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return lag
    }
}

/// Seconds as whole milliseconds for a figure, or "n/a".
func milliseconds(_ seconds: Double) -> String {
    seconds.isNaN ? "n/a" : String(Int((seconds * 1000).rounded()))
}
