/// The per-key operations of one batch, in flat storage: key bytes in one arena, entries in
/// one array, operations in one linked list per entry.
///
/// This is the hot path of the windowing engine: every keyed change is one lookup. A
/// `Dictionary` keyed by strings would allocate a key per change and hash it a byte at a
/// time; here a lookup hashes the caller's borrowed bytes once (SipHash, seeded per process,
/// so keys chosen by an attacker cannot force collisions), compares them in place, and copies
/// them into the arena only when the key is new. Appending an operation allocates nothing
/// beyond the amortised growth of three arrays, and ``removeAll()`` keeps their capacity, so a
/// long-running service allocates nothing per change once warm.
///
/// Entries keep their insertion order, which makes the sink's input, and so the tests,
/// deterministic.
public struct KeyDeltaTable: Sendable {
    /// One key in one window of one table.
    struct Entry: Sendable {
        var hash: Int
        var keyStart: Int32
        var keyCount: Int32
        var table: Int32
        var opCount: Int32
        var windowStart: Int64
        var firstChange: Int64
        var lastChange: Int64
        var firstOp: Int32
        var lastOp: Int32
    }

    private var keyBytes: [UInt8] = []
    private var entries: [Entry] = []
    /// Open addressing with linear probing: an entry index per slot, -1 when empty. The
    /// count is a power of two, kept at most half full.
    private var slots: [Int32] = []
    private var opCodes: [UInt8] = []
    /// The index of the next operation of the same entry, -1 at the end.
    private var opNext: [Int32] = []

    public init() {}

    /// Distinct (window, table, key) entries.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Operations recorded, over all keys.
    public var operationCount: Int { opCodes.count }

    /// Bytes held, for memory accounting.
    public var approximateBytes: Int {
        keyBytes.capacity + entries.capacity * MemoryLayout<Entry>.stride + slots.capacity * 4
            + opCodes.capacity * 5
    }

    /// Appends `operation` to the key's list, creating the entry if the key is new.
    public mutating func add(
        _ operation: RowOperation, key: UnsafeRawBufferPointer, table: Int32, windowStart: Timestamp, at time: Timestamp
    ) {
        if slots.isEmpty || (entries.count + 1) * 2 > slots.count { grow() }
        var hasher = Hasher()
        hasher.combine(windowStart.microsecondsSinceEpoch)
        hasher.combine(table)
        hasher.combine(bytes: key)
        let hash = hasher.finalize()
        let mask = slots.count - 1
        var slot = hash & mask
        let opIndex = Int32(opCodes.count)
        opCodes.append(operation.rawValue)
        opNext.append(-1)
        let micros = time.microsecondsSinceEpoch
        while true {
            let index = Int(slots[slot])
            if index < 0 { break }
            if entries[index].hash == hash, entries[index].table == table,
                entries[index].windowStart == windowStart.microsecondsSinceEpoch, keyEquals(index, key)
            {
                opNext[Int(entries[index].lastOp)] = opIndex
                entries[index].lastOp = opIndex
                entries[index].opCount += 1
                entries[index].firstChange = min(entries[index].firstChange, micros)
                entries[index].lastChange = max(entries[index].lastChange, micros)
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(entries.count)
        let keyStart = Int32(keyBytes.count)
        keyBytes.append(contentsOf: key)
        entries.append(
            Entry(
                hash: hash, keyStart: keyStart, keyCount: Int32(key.count), table: table, opCount: 1,
                windowStart: windowStart.microsecondsSinceEpoch, firstChange: micros, lastChange: micros,
                firstOp: opIndex, lastOp: opIndex))
    }

    /// Empties the table, keeping its storage for the next batch.
    public mutating func removeAll() {
        keyBytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        opCodes.removeAll(keepingCapacity: true)
        opNext.removeAll(keepingCapacity: true)
        if !slots.isEmpty { slots.withUnsafeMutableBufferPointer { $0.update(repeating: -1) } }
    }

    // MARK: Reading entries

    /// Where entry `index` belongs.
    public func window(at index: Int) -> Timestamp { Timestamp(microsecondsSinceEpoch: entries[index].windowStart) }
    public func table(at index: Int) -> Int32 { entries[index].table }
    public func firstChange(at index: Int) -> Timestamp { Timestamp(microsecondsSinceEpoch: entries[index].firstChange) }
    public func lastChange(at index: Int) -> Timestamp { Timestamp(microsecondsSinceEpoch: entries[index].lastChange) }
    public func operationCount(at index: Int) -> Int { Int(entries[index].opCount) }

    /// The key's bytes (the caller's canonical form, as given to ``add(_:key:table:windowStart:at:)``).
    public func withKey<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let entry = entries[index]
        return try keyBytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[Int(entry.keyStart)..<Int(entry.keyStart + entry.keyCount)]))
        }
    }

    /// Calls `body` with each operation of entry `index`, in the order they were added.
    public func forEachOperation(at index: Int, _ body: (RowOperation) -> Void) {
        var op = Int(entries[index].firstOp)
        while op >= 0 {
            body(RowOperation(rawValue: opCodes[op]) ?? .update)
            op = Int(opNext[op])
        }
    }

    /// The operations' letters (`I`, `U`, `D`) of entry `index`, appended to `output`.
    public func appendOperationLetters(at index: Int, to output: inout [UInt8]) {
        var op = Int(entries[index].firstOp)
        while op >= 0 {
            output.append(opCodes[op])
            op = Int(opNext[op])
        }
    }

    // MARK: Internals

    private func keyEquals(_ index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let entry = entries[index]
        guard Int(entry.keyCount) == key.count else { return false }
        if key.isEmpty { return true }
        return keyBytes.withUnsafeBytes { all in
            memcmpEqual(all.baseAddress! + Int(entry.keyStart), key.baseAddress!, key.count)
        }
    }

    private mutating func grow() {
        let newCount = max(1024, slots.count * 2)
        slots = [Int32](repeating: -1, count: newCount)
        let mask = newCount - 1
        for index in entries.indices {
            var slot = entries[index].hash & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }
}

private func memcmpEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Bool {
    var offset = 0
    while offset + 8 <= count {
        if lhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            != rhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        {
            return false
        }
        offset += 8
    }
    while offset < count {
        if lhs.load(fromByteOffset: offset, as: UInt8.self) != rhs.load(fromByteOffset: offset, as: UInt8.self) {
            return false
        }
        offset += 1
    }
    return true
}
