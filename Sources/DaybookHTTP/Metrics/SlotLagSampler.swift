import Daybook
import NIOPosix
import ServiceLifecycle

/// For `daybook serve`, which has no stream of its own: every `interval`, the slot's lag as
/// the source sees it (WAL not yet confirmed) and as the sink tells it (the source's clock
/// minus stream time while WAL waits), into the dashboard's ``LagHistory``. A source or sink
/// that does not answer leaves a gap, nothing else.
public struct SlotLagSampler: Service {
    let reader: SinkReader
    let history: LagHistory

    public init(reader: SinkReader, history: LagHistory) {
        self.reader = reader
        self.history = history
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let reader = reader
            let sample = try? await NIOThreadPool.singleton.runIfActive { try reader.lagSample() }
            if let sample = sample ?? nil {
                history.record(time: sample.time, bytes: sample.bytes, seconds: sample.seconds)
            }
            try? await Task.sleep(for: .seconds(history.interval))
        }
    }
}
