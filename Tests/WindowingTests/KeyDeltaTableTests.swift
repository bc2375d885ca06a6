import Testing
import Windowing

/// The flat per-key table behind every batch: lookups by borrowed bytes, growth, order.
struct KeyDeltaTableTests {
    private let monday = Timestamp(secondsSinceEpoch: 1_795_392_000)
    private let tuesday = Timestamp(secondsSinceEpoch: 1_795_478_400)

    private func add(
        _ table: inout KeyDeltaTable,
        _ operation: RowOperation,
        _ key: String,
        table index: Int32 = 0,
        window: Timestamp? = nil,
        at seconds: Int64 = 1_795_400_000
    ) {
        var key = key
        key.withUTF8 { bytes in
            table.add(
                operation,
                key: UnsafeRawBufferPointer(bytes),
                table: index,
                windowStart: window ?? monday,
                at: Timestamp(secondsSinceEpoch: seconds)
            )
        }
    }

    private func ops(_ table: KeyDeltaTable, _ index: Int) -> String {
        var letters: [UInt8] = []
        table.appendOperationLetters(at: index, to: &letters)
        return String(decoding: letters, as: UTF8.self)
    }

    private func key(_ table: KeyDeltaTable, _ index: Int) -> String {
        table.withKey(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aKeyCollectsItsOperationsInOrder() {
        var table = KeyDeltaTable()
        add(&table, .insert, "a", at: 20)
        add(&table, .update, "b", at: 30)
        add(&table, .update, "a", at: 10)
        add(&table, .delete, "a", at: 40)
        #expect(table.count == 2)
        #expect(table.operationCount == 4)
        #expect(key(table, 0) == "a")
        #expect(ops(table, 0) == "IUD")
        #expect(table.operationCount(at: 0) == 3)
        #expect(table.firstChange(at: 0) == Timestamp(secondsSinceEpoch: 10))
        #expect(table.lastChange(at: 0) == Timestamp(secondsSinceEpoch: 40))
        #expect(key(table, 1) == "b")
        #expect(ops(table, 1) == "U")
    }

    @Test func keyBytesAreCountedOncePerDistinctKey() {
        var table = KeyDeltaTable()
        add(&table, .insert, "abc")
        add(&table, .update, "abc")
        add(&table, .insert, "de")
        #expect(table.keyByteCount == 5)
        table.removeAll()
        #expect(table.keyByteCount == 0)
    }

    @Test func sameBytesInAnotherTableOrWindowIsAnotherEntry() {
        var table = KeyDeltaTable()
        add(&table, .insert, "k", table: 0)
        add(&table, .insert, "k", table: 1)
        add(&table, .insert, "k", table: 0, window: tuesday)
        add(&table, .update, "k", table: 1)
        #expect(table.count == 3)
        #expect(table.table(at: 1) == 1)
        #expect(ops(table, 1) == "IU")
        #expect(table.window(at: 2) == tuesday)
    }

    @Test func keysThatArePrefixesOfEachOtherStayApart() {
        var table = KeyDeltaTable()
        for key in ["", "a", "ab", "abcdefgh", "abcdefghi", "abcdefgi"] { add(&table, .insert, key) }
        add(&table, .delete, "abcdefgh")
        #expect(table.count == 6)
        #expect(ops(table, 3) == "ID")
        #expect(key(table, 0) == "")
    }

    @Test func growingKeepsEveryEntryFindable() {
        var table = KeyDeltaTable()
        for round in 0..<2 {
            for id in 0..<50_000 { add(&table, round == 0 ? .insert : .update, #"{"id":"\#(id)"}"#) }
        }
        #expect(table.count == 50_000)
        #expect(table.operationCount == 100_000)
        #expect((0..<table.count).allSatisfy { ops(table, $0) == "IU" })
        #expect(key(table, 49_999) == #"{"id":"49999"}"#)
    }

    @Test func removeAllEmptiesAndTheTableIsReusable() {
        var table = KeyDeltaTable()
        for id in 0..<3_000 { add(&table, .insert, "\(id)") }
        table.removeAll()
        #expect(table.isEmpty)
        #expect(table.operationCount == 0)
        add(&table, .delete, "7")
        add(&table, .update, "7")
        #expect(table.count == 1)
        #expect(ops(table, 0) == "DU")
    }
}
