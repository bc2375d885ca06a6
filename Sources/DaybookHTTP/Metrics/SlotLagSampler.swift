import Daybook
import Foundation
import NIOPosix
import PostgresReplication
import ServiceLifecycle

/// For `daybook serve`, which has no stream of its own: every `interval`, the slot's lag as
/// the source sees it (WAL not yet confirmed) and as the sink tells it (the source's clock
/// minus stream time while WAL waits), into the dashboard's ``LagHistory``. A source or sink
/// that does not answer leaves a gap, nothing else.
public struct SlotLagSampler: Service {
    let source: ConnectionString
    let sink: ConnectionString
    let slot: String
    let history: LagHistory

    public init(source: ConnectionString, sink: ConnectionString, slot: String, history: LagHistory) {
        self.source = source
        self.sink = sink
        self.slot = slot
        self.history = history
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let source = source
            let sink = sink
            let slot = slot
            let sample = try? await NIOThreadPool.singleton.runIfActive { () throws -> (Double, Double, Double)? in
                let sourceConnection = try PostgresConnection(source)
                guard
                    let row = try sourceConnection.query(
                        """
                        SELECT pg_wal_lsn_diff(\(WALPositionSQL.current), confirmed_flush_lsn)::float8::text,
                               extract(epoch FROM clock_timestamp())::float8::text
                          FROM pg_replication_slots WHERE slot_name = $1
                        """,
                        [slot]
                    ).rows.first, let bytes = row[0].flatMap(Double.init), let clock = row[1].flatMap(Double.init)
                else { return nil }
                let sinkConnection = try PostgresConnection(sink)
                let stream = try sinkConnection.query(
                    "SELECT extract(epoch FROM stream_time)::float8::text FROM daybook.checkpoint WHERE slot_name = $1",
                    [slot]
                ).scalar.flatMap(Double.init)
                return (clock, bytes, bytes > 0 ? max(0, clock - (stream ?? clock)) : 0)
            }
            if let sample = sample ?? nil { history.record(time: sample.0, bytes: sample.1, seconds: sample.2) }
            try? await Task.sleep(for: .seconds(history.interval))
        }
    }
}
