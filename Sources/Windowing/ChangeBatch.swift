import WAL

/// A row operation as reports show it: one letter each.
public enum RowOperation: UInt8, Hashable, Sendable {
    case insert = 73  // "I"
    case update = 85  // "U"
    case delete = 68  // "D"
    case truncate = 84  // "T"

    public var letter: Character { Character(Unicode.Scalar(rawValue)) }
}

/// How much of a table's changes Daybook keeps, chosen per table (`daybook capture`).
///
/// The cost grows with the level: `counts` keeps per-table figures only, `keys` adds each
/// key's operations (the default), `values` adds every change's row images.
public enum CaptureLevel: String, CaseIterable, Hashable, Sendable, Comparable {
    case counts, keys, values

    /// The level's bit in ``TableDelta/levels``: a window records every level it was captured at.
    public var bit: Int {
        switch self {
        case .counts: 1
        case .keys: 2
        case .values: 4
        }
    }

    /// The levels whose bits are set in `bits`, lowest first.
    public static func levels(inBits bits: Int) -> [CaptureLevel] { allCases.filter { bits & $0.bit != 0 } }

    public static func < (lhs: CaptureLevel, rhs: CaptureLevel) -> Bool { lhs.bit < rhs.bit }
}

/// Per (window, table) counts accumulated since the last checkpoint.
public struct TableDelta: Hashable, Sendable {
    /// The capture levels (``CaptureLevel/bit``) the changes were recorded at.
    public var levels = 0
    public var inserts = 0
    public var updates = 0
    public var deletes = 0
    public var truncates = 0
    public var transactions = 0
    public var firstChange: Timestamp
    public var lastChange: Timestamp

    public init(at time: Timestamp) {
        firstChange = time
        lastChange = time
    }
}

/// One key's operations in one window since the last checkpoint, in commit order.
public struct KeyDelta: Hashable, Sendable {
    public var ops: [RowOperation] = []
    public var firstChange: Timestamp
    public var lastChange: Timestamp

    public init(at time: Timestamp) {
        firstChange = time
        lastChange = time
    }
}

public struct TableWindowID: Hashable, Sendable {
    public var windowStart: Timestamp
    public var table: String
    public init(windowStart: Timestamp, table: String) {
        self.windowStart = windowStart
        self.table = table
    }
}

/// Identifies a key in a window. Keys compare by their UTF-8 bytes, as PostgreSQL compares
/// them, not by Swift's canonical equivalence (which would merge NFC and NFD spellings of
/// two distinct rows).
public struct KeyWindowID: Hashable, Sendable {
    public var windowStart: Timestamp
    public var table: String
    /// The key in its canonical text form (Daybook uses a JSON object of column to value).
    public var key: String

    public static func == (lhs: KeyWindowID, rhs: KeyWindowID) -> Bool {
        lhs.windowStart == rhs.windowStart && lhs.table.utf8.elementsEqual(rhs.table.utf8)
            && lhs.key.utf8.elementsEqual(rhs.key.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(windowStart)
        for byte in table.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)
        for byte in key.utf8 { hasher.combine(byte) }
    }
    public init(windowStart: Timestamp, table: String, key: String) {
        self.windowStart = windowStart
        self.table = table
        self.key = key
    }
}

/// A change that arrived for a window that had already closed.
public struct LateChange: Hashable, Sendable {
    public var window: Window
    public var table: String
    public var key: String?
    public var operation: RowOperation
    public var commitTime: Timestamp
    /// Commit LSN of the transaction, so an operator can find it in the WAL.
    public var lsn: LSN
    public var xid: UInt32

    public init(
        window: Window,
        table: String,
        key: String?,
        operation: RowOperation,
        commitTime: Timestamp,
        lsn: LSN,
        xid: UInt32
    ) {
        self.window = window
        self.table = table
        self.key = key
        self.operation = operation
        self.commitTime = commitTime
        self.lsn = lsn
        self.xid = xid
    }
}

/// Everything that changed since the last checkpoint: the only state Daybook keeps in memory.
///
/// Its size is bounded by the changes between two checkpoints, never by the number of keys
/// in a day; the open windows' full state lives in the sink. A batch can also hand its keyed
/// part to the sink early (``takeKeyedPart()``), which is how one source transaction
/// larger than a batch stays within bounded memory.
///
/// Tables are interned: each name gets a small index once (``tableIndex(_:)``), so the per
/// change path never hashes a table name. The names outlive ``reset()``, since the caller
/// caches the indices.
public struct ChangeBatch: Sendable {
    /// Interned table names; an index into this array identifies a table.
    public private(set) var tableNames: [String] = []
    private var tableIndices: [String: Int32] = [:]
    /// Per (window, table) counts, in first-seen order; `tableSlots` finds them.
    private var tableDeltas: [(id: TableSlot, delta: TableDelta, lastTransaction: Int)] = []
    private var tableSlots: [TableSlot: Int] = [:]
    /// Per (window, table, key) operations.
    public private(set) var keyTable = KeyDeltaTable()
    public private(set) var late: [LateChange] = []
    /// Row images of the changes to `values` tables.
    public private(set) var events = ValueEventLog()
    /// Number of changes folded in (on time and late).
    public private(set) var changeCount = 0
    /// Serial number of the current source transaction, so each table counts it once.
    private var transaction = 0

    private struct TableSlot: Hashable, Sendable {
        var windowStart: Int64
        var table: Int32
    }

    public init() {}

    public var isEmpty: Bool { changeCount == 0 }

    /// Bytes of key text held (see ``KeyDeltaTable/keyByteCount``).
    public var keyByteCount: Int { keyTable.keyByteCount }

    /// Bytes of key text and row images held: what bounds a batch besides its change count.
    public var byteCount: Int { keyTable.keyByteCount + events.byteCount }

    /// The index of table `name`, interning it on first use.
    public mutating func tableIndex(_ name: String) -> Int32 {
        if let index = tableIndices[name] { return index }
        let index = Int32(tableNames.count)
        tableNames.append(name)
        tableIndices[name] = index
        return index
    }

    /// Marks the start of a source transaction, so each table counts it once.
    public mutating func beginTransaction() { transaction += 1 }

    /// Counts one on-time row change for its table. Its keys, if any, follow with
    /// ``addKeyOperation(_:key:table:windowStart:at:)``.
    public mutating func countChange(
        _ operation: RowOperation,
        table: Int32,
        window: Window,
        at time: Timestamp,
        level: CaptureLevel = .keys
    ) {
        changeCount += 1
        let slot = TableSlot(windowStart: window.start.microsecondsSinceEpoch, table: table)
        let position: Int
        if let existing = tableSlots[slot] {
            position = existing
        } else {
            position = tableDeltas.count
            tableSlots[slot] = position
            tableDeltas.append((slot, TableDelta(at: time), 0))
        }
        tableDeltas[position].delta.count(operation)
        tableDeltas[position].delta.levels |= level.bit
        if tableDeltas[position].lastTransaction != transaction {
            tableDeltas[position].lastTransaction = transaction
            tableDeltas[position].delta.transactions += 1
        }
        tableDeltas[position].delta.firstChange = min(tableDeltas[position].delta.firstChange, time)
        tableDeltas[position].delta.lastChange = max(tableDeltas[position].delta.lastChange, time)
    }

    /// Appends one operation to a key's list in its window. `key` is the key's canonical
    /// bytes; they are copied only if the key is new to the batch.
    public mutating func addKeyOperation(
        _ operation: RowOperation,
        key: UnsafeRawBufferPointer,
        table: Int32,
        windowStart: Timestamp,
        at time: Timestamp
    ) {
        keyTable.add(operation, key: key, table: table, windowStart: windowStart, at: time)
    }

    /// Folds one on-time row change into the batch (the convenient form of
    /// ``countChange(_:table:window:at:)`` plus one ``addKeyOperation(_:key:table:windowStart:at:)``
    /// per key).
    ///
    /// - Parameters:
    ///   - operation: what the table counts.
    ///   - keyOperations: what each affected key records, in order. Usually one entry with the
    ///     same operation; an update that changes a row's key records a delete of the old key
    ///     and an insert of the new one. Empty for truncates and tables without a key.
    public mutating func add(
        _ operation: RowOperation,
        keyOperations: [(RowOperation, String)],
        table: String,
        window: Window,
        at time: Timestamp
    ) {
        let index = tableIndex(table)
        countChange(operation, table: index, window: window, at: time)
        for (keyOperation, key) in keyOperations {
            var key = key
            key.withUTF8 { bytes in
                addKeyOperation(
                    keyOperation,
                    key: UnsafeRawBufferPointer(bytes),
                    table: index,
                    windowStart: window.start,
                    at: time
                )
            }
        }
    }

    /// Records one change of a `values` table with its row images (after its
    /// ``countChange(_:table:window:at:level:)``).
    public mutating func addEvent(
        _ operation: RowOperation,
        images: ValueEventLog.Images,
        table: Int32,
        windowStart: Timestamp,
        at time: Timestamp,
        lsn: LSN,
        sequence: Int32,
        actor: Int32 = -1
    ) {
        events.append(
            operation,
            images: images,
            table: table,
            windowStart: windowStart,
            at: time,
            lsn: lsn,
            sequence: sequence,
            actor: actor
        )
    }

    /// Records a late change: kept and counted, never merged into a closed window's results.
    public mutating func addLate(_ change: LateChange) {
        changeCount += 1
        late.append(change)
    }

    /// Hands over the keyed part (key operations, row images and late changes) and empties
    /// it, keeping the per-table counts. For writing a very large transaction in parts.
    public mutating func takeKeyedPart() -> (keys: KeyDeltaTable, events: ValueEventLog, late: [LateChange]) {
        defer {
            keyTable.removeAll()
            events.removeAll()
            late.removeAll(keepingCapacity: false)
        }
        return (keyTable, events, late)
    }

    /// Empties the batch after the sink committed it; interned table names stay.
    public mutating func reset() {
        tableDeltas.removeAll(keepingCapacity: true)
        tableSlots.removeAll(keepingCapacity: true)
        keyTable.removeAll()
        events.removeAll()
        late.removeAll(keepingCapacity: false)
        changeCount = 0
    }

    // MARK: Reading

    /// The per-(window, table) counts with table names, in first-seen order.
    public var tableCounts: [(id: TableWindowID, delta: TableDelta)] {
        tableDeltas.map { entry in
            (
                TableWindowID(
                    windowStart: Timestamp(microsecondsSinceEpoch: entry.id.windowStart),
                    table: tableNames[Int(entry.id.table)]
                ),
                entry.delta
            )
        }
    }

    /// The per-(window, table) counts as a dictionary (for tests and reports).
    public var tables: [TableWindowID: TableDelta] {
        Dictionary(tableCounts.map { ($0.id, $0.delta) }, uniquingKeysWith: { first, _ in first })
    }

    /// The per-key operations as a dictionary keyed by text (for tests; the sink reads
    /// ``keyTable`` directly).
    public var keys: [KeyWindowID: KeyDelta] {
        var result: [KeyWindowID: KeyDelta] = [:]
        for index in 0..<keyTable.count {
            let key = keyTable.withKey(at: index) { String(decoding: $0, as: UTF8.self) }
            var delta = KeyDelta(at: keyTable.firstChange(at: index))
            delta.lastChange = keyTable.lastChange(at: index)
            keyTable.forEachOperation(at: index) { delta.ops.append($0) }
            let id = KeyWindowID(
                windowStart: keyTable.window(at: index),
                table: tableNames[Int(keyTable.table(at: index))],
                key: key
            )
            result[id] = delta
        }
        return result
    }
}

extension TableDelta {
    mutating func count(_ operation: RowOperation) {
        switch operation {
        case .insert: inserts += 1
        case .update: updates += 1
        case .delete: deletes += 1
        case .truncate: truncates += 1
        }
    }
}
