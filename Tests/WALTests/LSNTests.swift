import Testing
import WAL

/// The `HI/LO` text form PostgreSQL uses for `pg_lsn`.
struct LSNTests {
    @Test func parsesAndPrintsTheTextForm() throws {
        let lsn = try #require(LSN("16/B374D848"))
        #expect(lsn.rawValue == 0x16_B374_D848)
        #expect(lsn.description == "16/B374D848")
    }

    @Test(arguments: [
        ("0/0", UInt64(0)),
        ("0/1", 1),
        ("1/0", 0x1_0000_0000),
        ("16/b374d848", 0x16_B374_D848),
        ("00000016/0000ABCD", 0x16_0000_ABCD),
        ("FFFFFFFF/FFFFFFFF", UInt64.max),
    ])
    func parses(text: String, rawValue: UInt64) {
        #expect(LSN(text) == LSN(rawValue))
    }

    @Test(arguments: [
        (UInt64(0), "0/0"),
        (0x1_0000_0000, "1/0"),
        (0xAB_0000_00CD, "AB/CD"),
        (UInt64.max, "FFFFFFFF/FFFFFFFF"),
    ])
    func printsUpperCaseWithoutPadding(rawValue: UInt64, text: String) {
        #expect(LSN(rawValue).description == text)
        #expect(LSN(text) == LSN(rawValue))
    }

    @Test(arguments: [
        "", "/", "0", "16B374D848", "16/", "/B374D848", "16/B374D848/0", "16//B374D848", "G/0", "0/0x1",
        "123456789/0", "0/123456789", " 16/B374D848", "16/B374D848 ", "16 /B374D848", "16/B374D848\n", "1,6/0",
        "١/٠", "nonsense", "1/2/3", "000000001/0",
    ])
    func rejectsInvalidText(text: String) {
        #expect(LSN(text) == nil)
    }

    /// PostgreSQL's `pg_lsn` input accepts hex digits only, while Swift's integer parsing also
    /// accepts a leading sign: a regression test for that.
    @Test(arguments: ["+1/0", "0/+1", "-0/0", "0/-0", "+0/+0"])
    func rejectsSignedHalves(text: String) {
        #expect(LSN(text) == nil)
    }

    @Test func ordersByPosition() {
        #expect(LSN(0xFF) < LSN(0x1_0000_0000))
        #expect(LSN.zero < LSN(1))
        #expect(
            [LSN("1/0"), LSN("0/FFFFFFFF"), LSN("0/0")].compactMap { $0 }.sorted() == [
                LSN(0), LSN(0xFFFF_FFFF), LSN(0x1_0000_0000),
            ]
        )
        #expect(LSN(rawValue: 5) == LSN(5))
    }
}

/// When a stream has received everything before an insert position.
struct InsertPositionTests {
    @Test func aPositionAtOrPastTheTargetCoversIt() {
        #expect(LSN(0x1_0000_0100).covers(insertPosition: LSN(0x1_0000_0100)))
        #expect(LSN(0x1_0000_0200).covers(insertPosition: LSN(0x1_0000_0100)))
        #expect(!LSN(0x1_0000_0100).covers(insertPosition: LSN(0x1_0000_0101)))
    }

    /// A record that ends at a page boundary leaves the insert position past the next page's
    /// header (24 bytes, or 40 at the start of a segment), where no record ends.
    @Test func aPageBoundaryCoversThePageHeaderAfterIt() {
        let page = LSN(0x1_0000_0000 + 8192 * 3)
        #expect(page.covers(insertPosition: page.advanced(by: 24)))
        #expect(page.covers(insertPosition: page.advanced(by: 40)))
        #expect(!page.covers(insertPosition: page.advanced(by: 41)))
        #expect(!page.advanced(by: 8).covers(insertPosition: page.advanced(by: 24)), "not at a boundary")
        #expect(!LSN.zero.covers(insertPosition: LSN(24)), "0/0 is no position")
    }
}

/// The wire's integers: big-endian, read at any offset, written back the same.
struct BigEndianTests {
    @Test func readsAtAnyOffsetInEachWidth() {
        let bytes: [UInt8] = [0xFF, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xFE]
        bytes.withUnsafeBytes { buffer in
            #expect(buffer.bigEndian(UInt16.self, at: 1) == 0x0102)
            #expect(buffer.bigEndian(UInt32.self, at: 1) == 0x0102_0304)
            #expect(buffer.bigEndian(UInt64.self, at: 1) == 0x0102_0304_0506_0708)
            #expect(buffer.bigEndian(UInt64.self, at: 2) == 0x0203_0405_0607_08FE, "unaligned")
            #expect(buffer.bigEndian(Int16.self, at: 8) == Int16(bitPattern: 0x08FE))
            #expect(buffer.bigEndian(Int32.self, at: 0) == Int32(bitPattern: 0xFF01_0203))
        }
    }

    @Test(arguments: [Int64.min, -1, 0, 1, 0x0102_0304_0506_0708, Int64.max])
    func whatIsWrittenReadsBack(value: Int64) {
        var bytes: [UInt8] = [0xAA]
        bytes.appendBigEndian(value)
        bytes.appendBigEndian(Int16(truncatingIfNeeded: value))
        #expect(bytes.count == 11)
        bytes.withUnsafeBytes { buffer in
            #expect(buffer.bigEndian(Int64.self, at: 1) == value)
            #expect(buffer.bigEndian(Int16.self, at: 9) == Int16(truncatingIfNeeded: value))
        }
        if value == 0x0102_0304_0506_0708 { #expect(Array(bytes[1...8]) == [1, 2, 3, 4, 5, 6, 7, 8]) }
    }
}
