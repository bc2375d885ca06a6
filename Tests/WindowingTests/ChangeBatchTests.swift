import Testing
import WAL
import Windowing

private let monday = Window(start: .utc(2026, 11, 23), end: .utc(2026, 11, 24))
private let tuesday = Window(start: .utc(2026, 11, 24), end: .utc(2026, 11, 25))
private let orders = "public.orders"
private let users = "public.users"
private let order1 = #"{"id":1}"#
private let order2 = #"{"id":2}"#

private func tableID(_ window: Window, _ table: String) -> TableWindowID {
    TableWindowID(windowStart: window.start, table: table)
}

private func keyID(_ window: Window, _ table: String, _ key: String) -> KeyWindowID {
    KeyWindowID(windowStart: window.start, table: table, key: key)
}

private func tableDelta(
    inserts: Int = 0,
    updates: Int = 0,
    deletes: Int = 0,
    truncates: Int = 0,
    transactions: Int,
    first: Timestamp,
    last: Timestamp
) -> TableDelta {
    var delta = TableDelta(at: first)
    delta.inserts = inserts
    delta.updates = updates
    delta.deletes = deletes
    delta.truncates = truncates
    delta.transactions = transactions
    delta.lastChange = last
    delta.levels = CaptureLevel.keys.bit  // the default level of ChangeBatch.countChange
    return delta
}

private func keyDelta(_ ops: [RowOperation], first: Timestamp, last: Timestamp) -> KeyDelta {
    var delta = KeyDelta(at: first)
    delta.ops = ops
    delta.lastChange = last
    return delta
}

private func lateChange(_ operation: RowOperation, key: String?, at time: Timestamp, lsn: LSN) -> LateChange {
    LateChange(window: monday, table: orders, key: key, operation: operation, commitTime: time, lsn: lsn, xid: 42)
}

@Test func rowOperationLetters() {
    #expect(RowOperation.insert.letter == "I")
    #expect(RowOperation.update.letter == "U")
    #expect(RowOperation.delete.letter == "D")
    #expect(RowOperation.truncate.letter == "T")
}

@Test func newBatchIsEmpty() {
    let batch = ChangeBatch()
    #expect(batch.isEmpty)
    #expect(batch.changeCount == 0)
    #expect(batch.tables.isEmpty)
    #expect(batch.keys.isEmpty)
    #expect(batch.late.isEmpty)
}

@Test func countsPerTablePerWindow() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    let t2 = Timestamp.utc(2026, 11, 24, 10)
    batch.beginTransaction()
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: monday, at: t1)
    batch.add(.insert, keyOperations: [(.insert, order2)], table: orders, window: monday, at: t1)
    batch.add(.update, keyOperations: [(.update, order1)], table: orders, window: monday, at: t1)
    batch.add(.delete, keyOperations: [(.delete, #"{"id":7}"#)], table: users, window: monday, at: t1)
    batch.beginTransaction()
    batch.add(.truncate, keyOperations: [], table: orders, window: tuesday, at: t2)
    batch.add(.delete, keyOperations: [(.delete, order1)], table: orders, window: tuesday, at: t2)

    #expect(batch.changeCount == 6)
    #expect(batch.isEmpty == false)
    #expect(batch.tables.count == 3)
    #expect(
        batch.tables[tableID(monday, orders)]
            == tableDelta(inserts: 2, updates: 1, transactions: 1, first: t1, last: t1)
    )
    #expect(batch.tables[tableID(monday, users)] == tableDelta(deletes: 1, transactions: 1, first: t1, last: t1))
    #expect(
        batch.tables[tableID(tuesday, orders)]
            == tableDelta(deletes: 1, truncates: 1, transactions: 1, first: t2, last: t2)
    )
    #expect(batch.tables[tableID(tuesday, users)] == nil)
}

@Test func eachTransactionCountsOncePerTable() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    let t2 = Timestamp.utc(2026, 11, 23, 10)
    let t3 = Timestamp.utc(2026, 11, 23, 11)
    batch.beginTransaction()
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: monday, at: t1)
    batch.add(.insert, keyOperations: [(.insert, order2)], table: orders, window: monday, at: t1)
    batch.add(.insert, keyOperations: [(.insert, "u1")], table: users, window: monday, at: t1)
    batch.add(.update, keyOperations: [(.update, order1)], table: orders, window: monday, at: t1)
    #expect(batch.tables[tableID(monday, orders)]?.transactions == 1)
    #expect(batch.tables[tableID(monday, users)]?.transactions == 1)

    batch.beginTransaction()
    batch.add(.delete, keyOperations: [(.delete, order2)], table: orders, window: monday, at: t2)
    #expect(batch.tables[tableID(monday, orders)]?.transactions == 2)
    #expect(batch.tables[tableID(monday, users)]?.transactions == 1)

    batch.beginTransaction()
    batch.add(.update, keyOperations: [(.update, "u1")], table: users, window: monday, at: t3)
    batch.add(.update, keyOperations: [(.update, "u1")], table: users, window: monday, at: t3)
    #expect(batch.tables[tableID(monday, orders)]?.transactions == 2)
    #expect(batch.tables[tableID(monday, users)]?.transactions == 2)
    #expect(batch.changeCount == 7)
}

@Test func keyOperationsAreAppendedInOrder() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    let t2 = Timestamp.utc(2026, 11, 23, 10)
    let t3 = Timestamp.utc(2026, 11, 23, 11)
    batch.beginTransaction()
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: monday, at: t1)
    batch.beginTransaction()
    batch.add(.update, keyOperations: [(.update, order1)], table: orders, window: monday, at: t2)
    batch.add(.update, keyOperations: [(.update, order1)], table: orders, window: monday, at: t2)
    batch.beginTransaction()
    batch.add(.delete, keyOperations: [(.delete, order1)], table: orders, window: monday, at: t3)
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: monday, at: t3)
    #expect(
        batch.keys[keyID(monday, orders, order1)]
            == keyDelta([.insert, .update, .update, .delete, .insert], first: t1, last: t3)
    )
    #expect(batch.keys.count == 1)
}

@Test func updateThatChangesTheKeyCountsOnceForTheTableAndTwiceForKeys() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    batch.beginTransaction()
    batch.add(.update, keyOperations: [(.delete, order1), (.insert, order2)], table: orders, window: monday, at: t1)
    #expect(batch.changeCount == 1)
    #expect(batch.tables[tableID(monday, orders)] == tableDelta(updates: 1, transactions: 1, first: t1, last: t1))
    #expect(batch.keys[keyID(monday, orders, order1)] == keyDelta([.delete], first: t1, last: t1))
    #expect(batch.keys[keyID(monday, orders, order2)] == keyDelta([.insert], first: t1, last: t1))
}

@Test func changesWithoutKeysCountOnlyForTheTable() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    batch.beginTransaction()
    batch.add(.truncate, keyOperations: [], table: orders, window: monday, at: t1)
    batch.add(.insert, keyOperations: [], table: "public.log", window: monday, at: t1)
    #expect(batch.keys.isEmpty)
    #expect(batch.tables[tableID(monday, orders)] == tableDelta(truncates: 1, transactions: 1, first: t1, last: t1))
    #expect(batch.tables[tableID(monday, "public.log")] == tableDelta(inserts: 1, transactions: 1, first: t1, last: t1))
}

@Test func keysAreSeparatePerWindowAndTable() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    let t2 = Timestamp.utc(2026, 11, 24, 9)
    batch.beginTransaction()
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: monday, at: t1)
    batch.add(.insert, keyOperations: [(.insert, order1)], table: users, window: monday, at: t1)
    batch.beginTransaction()
    batch.add(.delete, keyOperations: [(.delete, order1)], table: orders, window: tuesday, at: t2)
    #expect(batch.keys.count == 3)
    #expect(batch.keys[keyID(monday, orders, order1)] == keyDelta([.insert], first: t1, last: t1))
    #expect(batch.keys[keyID(monday, users, order1)] == keyDelta([.insert], first: t1, last: t1))
    #expect(batch.keys[keyID(tuesday, orders, order1)] == keyDelta([.delete], first: t2, last: t2))
}

@Test func firstAndLastChangeAreTheMinimumAndMaximum() {
    var batch = ChangeBatch()
    let early = Timestamp.utc(2026, 11, 23, 1)
    let middle = Timestamp.utc(2026, 11, 23, 12)
    let late = Timestamp.utc(2026, 11, 23, 23)
    for time in [middle, early, late, middle] {
        batch.beginTransaction()
        batch.add(.update, keyOperations: [(.update, order1)], table: orders, window: monday, at: time)
    }
    #expect(batch.tables[tableID(monday, orders)] == tableDelta(updates: 4, transactions: 4, first: early, last: late))
    #expect(
        batch.keys[keyID(monday, orders, order1)]
            == keyDelta([.update, .update, .update, .update], first: early, last: late)
    )
}

@Test func lateChangesAreKeptSeparatelyAndCounted() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 24, 9)
    batch.beginTransaction()
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: tuesday, at: t1)
    let first = lateChange(.update, key: order2, at: .utc(2026, 11, 23, 23), lsn: 0x1_6B37_4D48)
    let second = lateChange(.truncate, key: nil, at: .utc(2026, 11, 23, 22), lsn: 0x1_6B37_4E00)
    batch.addLate(first)
    batch.addLate(second)
    #expect(batch.late == [first, second])
    #expect(batch.changeCount == 3)
    #expect(batch.tables.count == 1)
    #expect(batch.tables[tableID(monday, orders)] == nil)
    #expect(batch.keys[keyID(monday, orders, order2)] == nil)
    #expect(batch.keys.count == 1)
}

@Test func aBatchWithOnlyLateChangesIsNotEmpty() {
    var batch = ChangeBatch()
    batch.addLate(lateChange(.delete, key: order1, at: .utc(2026, 11, 23, 8), lsn: 1))
    #expect(batch.isEmpty == false)
    #expect(batch.changeCount == 1)
    #expect(batch.tables.isEmpty)
    #expect(batch.keys.isEmpty)
}

@Test func resetEmptiesTheBatch() {
    var batch = ChangeBatch()
    let t1 = Timestamp.utc(2026, 11, 23, 9)
    let t2 = Timestamp.utc(2026, 11, 23, 15)
    batch.beginTransaction()
    batch.add(.insert, keyOperations: [(.insert, order1)], table: orders, window: monday, at: t1)
    batch.addLate(lateChange(.delete, key: order2, at: .utc(2026, 11, 22, 8), lsn: 1))
    batch.reset()
    #expect(batch.isEmpty)
    #expect(batch.changeCount == 0)
    #expect(batch.tables.isEmpty)
    #expect(batch.keys.isEmpty)
    #expect(batch.late.isEmpty)

    // What comes after a reset starts from zero.
    batch.beginTransaction()
    batch.add(.update, keyOperations: [(.update, order1)], table: orders, window: monday, at: t2)
    #expect(batch.changeCount == 1)
    #expect(batch.tables[tableID(monday, orders)] == tableDelta(updates: 1, transactions: 1, first: t2, last: t2))
    #expect(batch.keys[keyID(monday, orders, order1)] == keyDelta([.update], first: t2, last: t2))
}
