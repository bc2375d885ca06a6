import Daybook
import DaybookCore
import Testing
import WAL

/// Positions in these tests are written as an offset from another, as the plan reasons.
private func + (position: LSN, bytes: UInt64) -> LSN { position.advanced(by: bytes) }

/// When a backlog is read through SQL, in what ranges, and when the stream takes over.
struct BacklogPlanTests {
    private static let mib: UInt64 = 1 << 20

    private static func plan(threshold: UInt64 = 64, chunk: UInt64 = 256) -> BacklogPlan {
        var plan = BacklogPlan()
        plan.thresholdBytes = threshold * mib
        plan.chunkBytes = chunk * mib
        return plan
    }

    @Test func anOpenEndedRunReadsWhileFarBehindThenStreams() {
        let plan = Self.plan(threshold: 64, chunk: 256)
        let start: LSN = 0x1_0000_0000
        // 1 GiB behind: a full chunk first.
        #expect(
            plan.next(position: start, decodable: start + 1024 * Self.mib, end: nil)
                == .read(upTo: start + 256 * Self.mib)
        )
        // 100 MiB behind: all of it in one read.
        #expect(
            plan.next(position: start, decodable: start + 100 * Self.mib, end: nil)
                == .read(upTo: start + 100 * Self.mib)
        )
        // Less than the threshold behind: the stream takes the rest.
        #expect(plan.next(position: start, decodable: start + 63 * Self.mib, end: nil) == .stream)
        #expect(plan.next(position: start, decodable: start, end: nil) == .stream)
        #expect(plan.startsInBacklogMode(position: start, decodable: start + 64 * Self.mib, end: nil))
        #expect(!plan.startsInBacklogMode(position: start, decodable: start + 10 * Self.mib, end: nil))
    }

    @Test func aRunWithAnEndReadsAllOfItHoweverLittle() {
        let plan = Self.plan(threshold: 64, chunk: 256)
        let start: LSN = 0x2_0000_0000
        let end = start + 5000
        #expect(plan.next(position: start, decodable: end + 100, end: end) == .read(upTo: end))
        #expect(plan.startsInBacklogMode(position: start, decodable: end, end: end))
        // Written but not yet flushed: read what is decodable, then wait for the rest.
        #expect(plan.next(position: start, decodable: start + 3000, end: end) == .read(upTo: start + 3000))
        #expect(plan.next(position: start + 3000, decodable: start + 3000, end: end) == .wait)
        #expect(
            plan.startsInBacklogMode(position: start, decodable: start, end: end),
            "nothing flushed yet: wait for it"
        )
        #expect(!plan.startsInBacklogMode(position: end, decodable: end, end: end))
        #expect(plan.next(position: end, decodable: end, end: end) == .finished)
        // A long way to the end goes in chunks.
        let far = start + 600 * Self.mib
        #expect(plan.next(position: start, decodable: far, end: far) == .read(upTo: start + 256 * Self.mib))
    }

    /// An insert position just past a page header is where no record ends: a read that
    /// reached the page's start has reached it.
    @Test func anEndJustPastAPageHeaderIsReachedAtThePageStart() {
        let plan = Self.plan()
        let page = LSN(0x3_0000_0000 + 8192 * 10)
        #expect(plan.next(position: page, decodable: page + 24, end: page + 24) == .finished)
    }

    @Test func disabledMeansNever() {
        var plan = Self.plan(threshold: 1)
        plan.isEnabled = false
        #expect(!plan.startsInBacklogMode(position: 0, decodable: LSN(1 << 40), end: LSN(1 << 40)))
    }

    @Test func theServersTempFileLimitCapsARead() {
        let plan = Self.plan(chunk: 256)
        #expect(plan.chunkBytes(underTempFileLimit: -1) == 256 * Self.mib)
        #expect(plan.chunkBytes(underTempFileLimit: 1024 * 1024) == 256 * Self.mib)  // 1 GB: half is more than a chunk
        #expect(plan.chunkBytes(underTempFileLimit: 100 * 1024) == 50 * Self.mib)
        #expect(plan.chunkBytes(underTempFileLimit: 1024) == nil)  // 1 MB: half a mebibyte is too little
    }

    /// What ends backlog mode with one line, and what is an ordinary fault.
    @Test func fallbackReasons() {
        func reason(_ state: String) -> String? {
            BacklogPlan.fallbackReason(sqlState: state, message: "boom")
        }
        #expect(reason("42501")?.contains("GRANT EXECUTE") == true)
        #expect(reason("42883")?.contains("no usable SQL decoding functions") == true)
        #expect(reason("53400")?.contains("temp_file_limit") == true)
        #expect(reason("53100")?.contains("disk space") == true)
        #expect(reason("55006") == nil)  // the slot is in use: streaming would fail the same way
        #expect(reason("08006") == nil)
        #expect(BacklogPlan.fallbackReason(sqlState: nil, message: "gone") == nil)
    }

    /// Reading ahead on a copy of the slot: ranges stay small while little is decoded again
    /// (the restart position follows the reads), and grow to twice what is decoded again while
    /// it stays behind, never past a chunk.
    @Test func rangesReadAheadGrowOnlyWhileTheRestartPositionStaysBehind() {
        var plan = Self.plan(threshold: 64, chunk: 256)
        plan.firstAheadBytes = 16 * Self.mib
        let start: LSN = 0x3_0000_0000
        let far = start + 4096 * Self.mib
        #expect(plan.rangeBytes(decodedAgain: 0) == 16 * Self.mib)
        #expect(
            plan.next(position: start, decodable: far, end: nil, decodedAgain: 0) == .read(upTo: start + 16 * Self.mib)
        )
        // The restart position moved with the reads: 4 MiB since the last running-transactions record.
        #expect(plan.rangeBytes(decodedAgain: 4 * Self.mib) == 16 * Self.mib)
        // It stayed at the start: each range twice what it decodes again.
        #expect(plan.rangeBytes(decodedAgain: 16 * Self.mib) == 32 * Self.mib)
        #expect(plan.rangeBytes(decodedAgain: 48 * Self.mib) == 96 * Self.mib)
        #expect(plan.rangeBytes(decodedAgain: 144 * Self.mib) == 256 * Self.mib, "a chunk at most")
        #expect(plan.rangeBytes(decodedAgain: .max) == 256 * Self.mib, "no overflow")
        #expect(
            plan.next(position: start + 48 * Self.mib, decodable: far, end: nil, decodedAgain: 48 * Self.mib)
                == .read(upTo: start + 144 * Self.mib)
        )
        // Near the end, the rest in one read.
        #expect(
            plan.next(
                position: start,
                decodable: start + 20 * Self.mib,
                end: start + 20 * Self.mib,
                decodedAgain: 64 * Self.mib
            )
                == .read(upTo: start + 20 * Self.mib)
        )
        // Without it (reads in turn), every read is a chunk.
        #expect(plan.next(position: start, decodable: far, end: nil) == .read(upTo: start + 256 * Self.mib))
    }

    /// The copy's name is a valid slot name, unique per nonce, the slot's own name first.
    @Test func theTemporaryCopyHasAValidNameOfItsOwn() {
        #expect(BacklogPlan.temporaryCopyName(slot: "daybook", nonce: 0xbeef) == "daybook_ahead_0000beef")
        let long = String(repeating: "s", count: 63)
        let name = BacklogPlan.temporaryCopyName(slot: long, nonce: 0xffff_ffff)
        #expect(name.utf8.count == 63)
        #expect(name.hasSuffix("_ahead_ffffffff"))
        #expect(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" })
    }
}
