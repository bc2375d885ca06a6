/// The per-key operations of one batch, in flat storage: key bytes in one arena, entries in
/// one array, operations in one linked list per entry.
///
/// This is the hot path of the windowing engine: every keyed change is one lookup. A
/// `Dictionary` keyed by strings would allocate a key per change and hash it a byte at a
/// time; here a lookup hashes the caller's borrowed bytes once (SipHash, seeded per process,
/// so keys chosen by an attacker cannot force collisions), compares them in place, and copies
/// them into the arena only when the key is new. Adding an operation allocates nothing beyond
/// the amortised growth of its arrays, and ``removeAll()`` keeps their capacity, so a
/// long-running service allocates nothing per change once warm (a batch handed to the sink
/// while still shared is copied once, per checkpoint, not per change).
///
/// Entries keep their insertion order, which makes the sink's input, and so the tests,
/// deterministic.
public struct KeyDeltaTable: Sendable {
    /// One key in one window of one table.
    struct Entry: Sendable {
        var keyStart: Int
        var keyCount: Int
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
    /// Open addressing with linear probing, kept at most half full; the count is a power of
    /// two. A slot is 0 when empty, else the entry's index + 1 in the low 32 bits and the
    /// high 32 bits of its hash in the high ones, so most mismatches are rejected without
    /// touching the entry.
    private var slots: [UInt64] = []
    /// Every operation: its letter in the low 8 bits, the index + 1 of the same key's next
    /// operation above them (0 at the end of the list).
    private var operations: [UInt64] = []

    public init() {}

    /// Distinct (window, table, key) entries.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Operations recorded, over all keys.
    public var operationCount: Int { operations.count }
    /// Bytes of key text held: what a batch of wide keys (a whole row under `REPLICA
    /// IDENTITY FULL`) costs, so the caller can bound memory by bytes as well as by changes.
    public var keyByteCount: Int { keyBytes.count }

    /// Appends `operation` to the key's list, creating the entry if the key is new.
    public mutating func add(
        _ operation: RowOperation,
        key: UnsafeRawBufferPointer,
        table: Int32,
        windowStart: Timestamp,
        at time: Timestamp
    ) {
        if (entries.count + 1) * 2 > slots.count { grow() }
        var hasher = Hasher()
        hasher.combine(windowStart.microsecondsSinceEpoch)
        hasher.combine(table)
        hasher.combine(bytes: key)
        let hash = UInt64(bitPattern: Int64(hasher.finalize()))
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let window = windowStart.microsecondsSinceEpoch
        let micros = time.microsecondsSinceEpoch
        let opIndex = operations.count
        operations.append(UInt64(operation.rawValue))

        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        let found: Int? = slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                keyBytes.withUnsafeBytes { keyBytes in
                    while true {
                        let value = slots[slot]
                        if value == 0 { return nil }
                        if value & 0xFFFF_FFFF_0000_0000 == tag {
                            let index = Int(value & 0xFFFF_FFFF) - 1
                            let entry = entries[index]
                            if entry.table == table, entry.windowStart == window, entry.keyCount == key.count,
                                key.isEmpty
                                    || memcmpEqual(keyBytes.baseAddress! + entry.keyStart, key.baseAddress!, key.count)
                            {
                                return index
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
        if let index = found {
            entries.withUnsafeMutableBufferPointer { entries in
                operations.withUnsafeMutableBufferPointer { operations in
                    operations[Int(entries[index].lastOp)] |= UInt64(opIndex + 1) << 8
                }
                entries[index].lastOp = Int32(opIndex)
                entries[index].opCount += 1
                entries[index].firstChange = min(entries[index].firstChange, micros)
                entries[index].lastChange = max(entries[index].lastChange, micros)
            }
            return
        }
        slots[slot] = tag | UInt64(entries.count + 1)
        let keyStart = keyBytes.count
        keyBytes.append(contentsOf: key)
        entries.append(
            Entry(
                keyStart: keyStart,
                keyCount: key.count,
                table: table,
                opCount: 1,
                windowStart: window,
                firstChange: micros,
                lastChange: micros,
                firstOp: Int32(opIndex),
                lastOp: Int32(opIndex)
            )
        )
    }

    /// Empties the table, keeping its storage for the next batch.
    public mutating func removeAll() {
        keyBytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        operations.removeAll(keepingCapacity: true)
        if !slots.isEmpty { slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }

    // MARK: Reading entries

    /// Where entry `index` belongs.
    public func window(at index: Int) -> Timestamp { Timestamp(microsecondsSinceEpoch: entries[index].windowStart) }
    public func table(at index: Int) -> Int32 { entries[index].table }
    public func firstChange(at index: Int) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: entries[index].firstChange)
    }
    public func lastChange(at index: Int) -> Timestamp { Timestamp(microsecondsSinceEpoch: entries[index].lastChange) }
    public func operationCount(at index: Int) -> Int { Int(entries[index].opCount) }

    /// The key's bytes (the caller's canonical form, as given to ``add(_:key:table:windowStart:at:)``).
    public func withKey<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let entry = entries[index]
        return try keyBytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[entry.keyStart..<(entry.keyStart + entry.keyCount)]))
        }
    }

    /// Calls `body` with each operation of entry `index`, in the order they were added.
    public func forEachOperation(at index: Int, _ body: (RowOperation) -> Void) {
        var next = Int(entries[index].firstOp) + 1
        while next > 0 {
            let value = operations[next - 1]
            body(RowOperation(rawValue: UInt8(truncatingIfNeeded: value)) ?? .update)
            next = Int(value >> 8)
        }
    }

    /// The operations' letters (`I`, `U`, `D`) of entry `index`, appended to `output`.
    public func appendOperationLetters(at index: Int, to output: inout [UInt8]) {
        operations.withUnsafeBufferPointer { operations in
            var next = Int(entries[index].firstOp) + 1
            while next > 0 {
                let value = operations[next - 1]
                output.append(UInt8(truncatingIfNeeded: value))
                next = Int(value >> 8)
            }
        }
    }

    // MARK: Internals

    private mutating func grow() {
        let newCount = max(1024, slots.count * 2)
        var newSlots = [UInt64](repeating: 0, count: newCount)
        let mask = newCount - 1
        // Rehash from the stored keys: entries keep no full hash (it would cost 8 bytes each).
        for index in entries.indices {
            let entry = entries[index]
            var hasher = Hasher()
            hasher.combine(entry.windowStart)
            hasher.combine(entry.table)
            keyBytes.withUnsafeBytes { all in
                hasher.combine(
                    bytes: UnsafeRawBufferPointer(rebasing: all[entry.keyStart..<(entry.keyStart + entry.keyCount)])
                )
            }
            let hash = UInt64(bitPattern: Int64(hasher.finalize()))
            var slot = Int(truncatingIfNeeded: hash) & mask
            while newSlots[slot] != 0 { slot = (slot + 1) & mask }
            newSlots[slot] = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(index + 1)
        }
        slots = newSlots
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
