import Daybook
import DaybookCore
import Testing

/// A checkpoint is continued on a server only if the server's history contains it: after a
/// failover, up to the new primary's switchpoint.
struct TimelineCheckTests {
    private let history = TimelineCheck.parseHistory(
        "1\t0/3E98D50\tno recovery target specified\n\n2\t0/5000028\tno recovery target specified\n"
    )

    @Test func aHistoryFileReadsAsTimelinesAndWhereTheyEnded() {
        #expect(history == [.init(timeline: 1, switchpoint: 0x3E9_8D50), .init(timeline: 2, switchpoint: 0x500_0028)])
        #expect(TimelineCheck.parseHistory("").isEmpty)
    }

    @Test func theSameTimelineOrACheckpointBeforeTheSwitchpointGoesOn() throws {
        try TimelineCheck.verify(slot: "s", lsn: 0x9000_0000, checkpointTimeline: 3, serverTimeline: 3, history: [])
        try TimelineCheck.verify(slot: "s", lsn: 0x3E9_8D50, checkpointTimeline: 1, serverTimeline: 3, history: history)
        try TimelineCheck.verify(slot: "s", lsn: 0x400_0000, checkpointTimeline: 2, serverTimeline: 3, history: history)
    }

    @Test func aCheckpointPastTheForkIsRefused() {
        #expect {
            try TimelineCheck.verify(
                slot: "s",
                lsn: 0x3E9_8D51,
                checkpointTimeline: 1,
                serverTimeline: 3,
                history: history
            )
        } throws: { error in
            let error = error as? DaybookError
            return error?.code == .slotInvalid && error?.message.contains("lost in the failover") == true
                && error?.message.contains("0/3E98D50") == true
        }
    }

    @Test func anOlderServerOrAnotherClusterIsRefused() {
        #expect(throws: DaybookError.self) {
            try TimelineCheck.verify(slot: "s", lsn: 1, checkpointTimeline: 3, serverTimeline: 2, history: history)
        }
        #expect(throws: DaybookError.self) {
            try TimelineCheck.verify(slot: "s", lsn: 1, checkpointTimeline: 7, serverTimeline: 9, history: history)
        }
    }
}
