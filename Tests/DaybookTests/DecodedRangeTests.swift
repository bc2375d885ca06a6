import Foundation
import Testing
import WAL

@testable import Daybook

/// A decoded range hands back exactly the messages it was given, in order, whether they stayed
/// in memory or went to its temporary file, messages larger than a read block included.
struct DecodedRangeTests {
    private static func messages(count: Int, seed: UInt64) -> [(LSN, [UInt8])] {
        var random = seed
        return (0..<count).map { index in
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(random >> 54)  // up to 1023 bytes, some empty
            return (LSN(UInt64(index) * 64 + 0x1000), (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ index) })
        }
    }

    private static func roundTrip(_ messages: [(LSN, [UInt8])]) throws -> (DecodedRange, [(LSN, [UInt8])]) {
        let range = DecodedRange(end: 0xFFFF_FFFF)
        for (lsn, bytes) in messages { try bytes.withUnsafeBytes { try range.append(lsn: lsn, payload: $0) } }
        var read: [(LSN, [UInt8])] = []
        try range.forEachMessage { lsn, payload in read.append((lsn, Array(payload))) }
        return (range, read)
    }

    @Test func aSmallRangeStaysInMemory() throws {
        let messages = Self.messages(count: 1000, seed: 1)
        let (range, read) = try Self.roundTrip(messages)
        #expect(range.messages == 1000)
        #expect(range.byteCount < DecodedRange.memoryLimit)
        #expect(read.map(\.0) == messages.map(\.0))
        #expect(read.map(\.1) == messages.map(\.1))
    }

    @Test func aLargeRangeGoesThroughItsFileWhole() throws {
        // About 40 MiB: five spills, and messages cut at every 4 MiB read block.
        let messages = Self.messages(count: 80_000, seed: 2)
        let (range, read) = try Self.roundTrip(messages)
        #expect(range.byteCount > 4 * DecodedRange.memoryLimit)
        #expect(read.count == messages.count)
        #expect(read.map(\.0) == messages.map(\.0))
        #expect(read.elementsEqual(messages, by: { $0.1 == $1.1 }))
        // A second pass reads the same (the file is read, not consumed).
        var again = 0
        try range.forEachMessage { _, _ in again += 1 }
        #expect(again == messages.count)
    }

    @Test func aMessageLargerThanAReadBlockComesBackWhole() throws {
        let huge = (0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let messages: [(LSN, [UInt8])] = [(0x10, [1, 2, 3]), (0x20, huge), (0x30, [])]
        let (range, read) = try Self.roundTrip(messages)
        #expect(range.byteCount > DecodedRange.memoryLimit, "the huge message went to the file")
        #expect(read.map(\.0) == [0x10, 0x20, 0x30])
        #expect(read[1].1 == huge)
        #expect(read[0].1 == [1, 2, 3] && read[2].1.isEmpty)
    }
}
