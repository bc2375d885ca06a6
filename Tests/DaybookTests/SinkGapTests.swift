import Testing

@testable import Daybook

/// The decision at the start of every session: a slot confirmed past the sink's checkpoint means
/// the sink lost commits, once the checkpoint row is written under the rule that the slot is
/// never confirmed past it.
struct SinkGapTests {
    @Test func aSlotAheadOfABoundedCheckpointIsRefused() {
        #expect(
            SinkGap.verdict(sinkLSN: 0x19C_5938, slotConfirmed: 0x19E_FCA8, bounded: true)
                == .refuse(SinkGap.Gap(from: 0x19C_5938, to: 0x19E_FCA8))
        )
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
        let error = SinkGap.refusal(
            slot: "daybook",
            gap: SinkGap.Gap(from: 0x19C_5938, to: 0x19E_FCA8, walKeptFrom: 0x19C_0000)
        )
        #expect(error.exitCode == 4)
        #expect(
            error.message.hasPrefix(
                "the sink's checkpoint for slot daybook is at 0/19C5938 but the slot has confirmed 0/19EFCA8"
            )
        )
        #expect(error.message.contains("the sink lost commits"))
        #expect(error.message.contains("the changes between 0/19C5938 and 0/19EFCA8 cannot be read again"))
        #expect(error.message.contains("synchronous_commit"))
        #expect(error.message.contains("--accept-gap"))
        #expect(
            !error.message.contains("created again"),
            "the server still keeps the gap's WAL: a lost sink, not a new slot"
        )
        #expect(!error.message.contains("\n"))
    }

    /// A slot dropped and created again starts at the server's WAL end, and a slot that moved on
    /// long ago no longer keeps the gap's WAL: the line says so, and still refuses.
    @Test func aGapBeyondTheRetainedWALOrARecreatedSlotIsWordedForIt() {
        let gap = SinkGap.Gap(from: 0x19C_5938, to: 0x5_0000_0000, walKeptFrom: 0x4_FFFF_0000)
        #expect(
            SinkGap.verdict(
                sinkLSN: 0x19C_5938,
                slotConfirmed: 0x5_0000_0000,
                slotRestart: 0x4_FFFF_0000,
                bounded: true
            ) == .refuse(gap)
        )
        let error = SinkGap.refusal(slot: "daybook", gap: gap)
        #expect(error.exitCode == 4)
        #expect(error.message.contains("or the slot was dropped and created again"))
        #expect(error.message.contains("the server keeps WAL for the slot only from 4/FFFF0000"))
        #expect(!error.message.contains("\n"))
    }
}
