import Testing

@testable import Daybook

/// The decision at the start of every session: a slot confirmed past the sink's checkpoint means
/// the sink lost commits, once the checkpoint row is written under the rule that the slot is
/// never confirmed past it.
struct SinkGapTests {
    @Test func aSlotAheadOfABoundedCheckpointIsRefused() {
        #expect(SinkGap.verdict(sinkLSN: 0x19C_5938, slotConfirmed: 0x19E_FCA8, bounded: true) == .refuse(sink: 0x19C_5938, slot: 0x19E_FCA8))
        #expect(SinkGap.verdict(sinkLSN: 0x19E_FCA8, slotConfirmed: 0x19E_FCA8, bounded: true) == .proceed)
        // A slot behind the sink (a stop between the sink's commit and the slot's confirmation).
        #expect(SinkGap.verdict(sinkLSN: 0x19E_FCA8, slotConfirmed: 0x19C_5938, bounded: true) == .proceed)
    }

    @Test func nothingWrittenYetOrNoSlotPositionIsNoGap() {
        #expect(SinkGap.verdict(sinkLSN: 0, slotConfirmed: 0x19E_FCA8, bounded: true) == .proceed)
        #expect(SinkGap.verdict(sinkLSN: 0x100, slotConfirmed: nil, bounded: true) == .proceed)
    }

    @Test func aRowOfAnEarlierDaybookTakesTheSlotsPositionOnce() {
        #expect(SinkGap.verdict(sinkLSN: 0x100, slotConfirmed: 0x200, bounded: false) == .adopt(0x200))
        #expect(SinkGap.verdict(sinkLSN: 0x300, slotConfirmed: 0x200, bounded: false) == .adopt(0x300))
    }

    @Test func theRefusalSaysWhatHappenedAndWhatToDo() {
        let error = SinkGap.refusal(slot: "daybook", sink: 0x19C_5938, confirmed: 0x19E_FCA8)
        #expect(error.exitCode == 4)
        #expect(error.message.hasPrefix("the sink's checkpoint for slot daybook is at 0/19C5938 but the slot has confirmed 0/19EFCA8"))
        #expect(error.message.contains("the sink lost commits"))
        #expect(error.message.contains("synchronous_commit"))
        #expect(!error.message.contains("\n"))
    }
}
