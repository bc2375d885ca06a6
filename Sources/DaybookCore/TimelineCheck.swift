import WAL

/// Whether the sink's checkpoint lies on the source server's history: after a failover, the
/// new primary's WAL is the old one's only up to where the new one was promoted. Pure.
///
/// A timeline history file (`TIMELINE_HISTORY`) has a line per earlier timeline: its id, the
/// LSN where it ended (the switchpoint) and a reason, tab-separated.
public enum TimelineCheck {
    /// One line of a history file: timeline `timeline` ended at `switchpoint`.
    public struct Ending: Hashable, Sendable {
        public var timeline: Int
        public var switchpoint: LSN
        public init(timeline: Int, switchpoint: LSN) {
            self.timeline = timeline
            self.switchpoint = switchpoint
        }
    }

    /// Reads a history file's lines; comments and blank lines are skipped.
    public static func parseHistory(_ text: String) -> [Ending] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, !line.hasPrefix("#"), let timeline = Int(fields[0]),
                let lsn = LSN(fields[1])
            else { return nil }
            return Ending(timeline: timeline, switchpoint: lsn)
        }
    }

    /// Fails with the reason unless a checkpoint at `lsn`, written while reading timeline
    /// `checkpointTimeline`, can be continued on a server now on `serverTimeline` with
    /// `history` (that timeline's history file; empty for timeline 1).
    public static func verify(
        slot: String,
        lsn: LSN,
        checkpointTimeline: Int,
        serverTimeline: Int,
        history: [Ending]
    ) throws(DaybookError) {
        if serverTimeline == checkpointTimeline { return }
        guard serverTimeline > checkpointTimeline else {
            throw DaybookError(
                .slotInvalid,
                "the sink holds slot \(slot)'s results up to LSN \(lsn) read on timeline \(checkpointTimeline), "
                    + "but this server is on the earlier timeline \(serverTimeline): it is not the server Daybook read "
                    + "(an old primary back after a failover?); point --database at the current primary"
            )
        }
        guard let ending = history.first(where: { $0.timeline == checkpointTimeline }) else {
            throw DaybookError(
                .slotInvalid,
                "the sink holds slot \(slot)'s results read on timeline \(checkpointTimeline), which is not in this server's "
                    + "history (timeline \(serverTimeline)): it is another cluster; point --database at the server Daybook read"
            )
        }
        guard lsn <= ending.switchpoint else {
            throw DaybookError(
                .slotInvalid,
                "the sink holds slot \(slot)'s results up to LSN \(lsn), but this server's history left timeline "
                    + "\(checkpointTimeline) at \(ending.switchpoint): the transactions Daybook counted after that "
                    + "were lost in the failover, and reading on could skip others; the slot cannot be continued "
                    + "(set synchronized_standby_slots on the primary so that it never sends what its standby lacks)"
            )
        }
    }
}
