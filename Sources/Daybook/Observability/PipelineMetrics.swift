import DaybookCore
import Metrics
import WAL
import Windowing

/// Records ``DaybookMetric``s through swift-metrics: whatever backend the process bootstrapped
/// (Prometheus with `--listen`), or nothing at all when none was.
///
/// Everything is counted per committed checkpoint or per status update, never per change:
/// the per-table counts come from the checkpoint's own per-table figures, so metrics cost the
/// hot path nothing, and a change is counted once it is in the sink, as the reports count it.
public struct PipelineMetrics: Sendable {
    private let transactions = Counter(label: DaybookMetric.transactions.rawValue)
    private let checkpoints = Counter(label: DaybookMetric.checkpoints.rawValue)
    private let checkpointDuration = Metrics.Timer(label: DaybookMetric.checkpointDuration.rawValue)
    private let checkpointLSN = Gauge(label: DaybookMetric.checkpointLSN.rawValue)
    private let slotLagBytes = Gauge(label: DaybookMetric.slotLagBytes.rawValue)
    private let slotLagSeconds = Gauge(label: DaybookMetric.slotLagSeconds.rawValue)
    private let openWindows = Gauge(label: DaybookMetric.openWindows.rawValue)
    private let oldestOpenClosesAt = Gauge(label: DaybookMetric.oldestOpenWindowClosesAt.rawValue)
    private let reconnects = Counter(label: DaybookMetric.reconnects.rawValue)
    private let sinkErrors = Counter(label: DaybookMetric.sinkErrors.rawValue)
    private let streaming = Gauge(label: DaybookMetric.streaming.rawValue)
    private let backlogMode = Gauge(label: DaybookMetric.backlogMode.rawValue)
    private let gaps = CounterTotal(.gaps)
    /// The lag over the last hour, for the dashboard; nil when nobody looks.
    let lagHistory: LagHistory?

    public init(lagHistory: LagHistory? = nil) {
        self.lagHistory = lagHistory
        // Zero from the start, so that rate() and increase() see the first close.
        for reason in [CloseReason.data, .heartbeat, .startup, .idle] {
            Counter(label: DaybookMetric.closedWindows.rawValue, dimensions: [("closed_by", reason.rawValue)])
                .increment(by: 0)
        }
    }

    /// A point in time, as a gauge that exists only once it is known: a timestamp of 0
    /// would read as "the last heartbeat was 56 years ago".
    private func record(_ metric: DaybookMetric, _ time: Timestamp) {
        Gauge(label: metric.rawValue).record(time.unixSeconds)
    }

    /// A checkpoint the sink committed, and how long writing it took.
    func checkpointCommitted(_ checkpoint: Checkpoint, duration: Duration) {
        checkpoints.increment()
        checkpointDuration.recordNanoseconds(duration.nanoseconds)
        transactions.increment(by: Int64(checkpoint.transactions))
        checkpointLSN.record(Double(checkpoint.lsn.rawValue))
        if let time = checkpoint.streamTime { record(.streamTime, time) }
        if let time = checkpoint.lastHeartbeat { record(.lastHeartbeat, time) }
        var perTable: [String: TableDelta] = [:]
        for (id, delta) in checkpoint.batch.tableCounts {
            perTable[id.table, default: TableDelta(at: delta.firstChange)].add(delta)
        }
        for (table, delta) in perTable {
            for (operation, count) in [
                ("insert", delta.inserts), ("update", delta.updates), ("delete", delta.deletes),
                ("truncate", delta.truncates),
            ] where count > 0 {
                Counter(
                    label: DaybookMetric.changes.rawValue,
                    dimensions: [("table", table), ("operation", operation)]
                )
                .increment(by: Int64(count))
            }
        }
        lateChangesCommitted(checkpoint.batch.late)
        for (problem, count) in checkpoint.attributionProblems {
            Counter(label: DaybookMetric.attributionProblems.rawValue, dimensions: [("kind", problem.rawValue)])
                .increment(by: Int64(count))
        }
    }

    /// Late changes written (with a checkpoint, or ahead of a large transaction's commit).
    func lateChangesCommitted(_ late: [LateChange]) {
        guard !late.isEmpty else { return }
        var perTable: [String: Int64] = [:]
        for change in late { perTable[change.table, default: 0] += 1 }
        for (table, count) in perTable {
            Counter(label: DaybookMetric.lateChanges.rawValue, dimensions: [("table", table)]).increment(by: count)
        }
    }

    /// The gaps the sink holds for the slot (``Gaps``), read at the start of each session.
    func gapsRecorded(_ total: Int) {
        gaps.record(total: total)
    }

    /// Windows a committed checkpoint closed.
    func windowsClosed(_ closures: [WindowClosure]) {
        for closure in closures {
            Counter(label: DaybookMetric.closedWindows.rawValue, dimensions: [("closed_by", closure.reason.rawValue)])
                .increment()
        }
    }

    /// Where the stream stands, at each status update: lag, clocks, open windows.
    func position(
        serverWALEnd: LSN,
        confirmed: LSN,
        serverClock: Timestamp?,
        streamTime: Timestamp?,
        caughtUp: Bool,
        openWindows count: Int,
        oldestOpenWindowClosesAt: Timestamp?
    ) {
        let bytes = Double(serverWALEnd.bytes(since: confirmed))
        slotLagBytes.record(bytes)
        var seconds = 0.0
        if let serverClock {
            record(.serverTime, serverClock)
            let behind = streamTime.map { serverClock.unixSeconds - $0.unixSeconds } ?? 0
            seconds = caughtUp ? 0 : max(0, behind)
            slotLagSeconds.record(seconds)
        }
        lagHistory?.record(bytes: bytes, seconds: seconds)
        openWindows.record(count)
        oldestOpenClosesAt.record(oldestOpenWindowClosesAt?.unixSeconds ?? 0)
    }

    func streamingChanged(_ isStreaming: Bool) { streaming.record(isStreaming ? 1 : 0) }
    func backlogModeChanged(_ isReading: Bool) { backlogMode.record(isReading ? 1 : 0) }
    func reconnected() { reconnects.increment() }
    func sinkFailed() { sinkErrors.increment() }
}

extension Timestamp {
    var unixSeconds: Double { Double(microsecondsSinceEpoch) / 1_000_000 }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension TableDelta {
    fileprivate mutating func add(_ other: TableDelta) {
        inserts += other.inserts
        updates += other.updates
        deletes += other.deletes
        truncates += other.truncates
    }
}
