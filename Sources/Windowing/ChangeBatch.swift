/// A row operation as reports show it: one letter each.
public enum RowOperation: UInt8, Hashable, Sendable {
    case insert = 73  // "I"
    case update = 85  // "U"
    case delete = 68  // "D"
    case truncate = 84  // "T"

    public var letter: Character { Character(Unicode.Scalar(rawValue)) }
}

/// Per (window, table) counts accumulated since the last checkpoint.
public struct TableDelta: Hashable, Sendable {
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
    public var lsn: UInt64
    public var xid: UInt32

    public init(
        window: Window, table: String, key: String?, operation: RowOperation, commitTime: Timestamp, lsn: UInt64,
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
/// in a day; the open windows' full state lives in the sink.
public struct ChangeBatch: Sendable {
    public private(set) var tables: [TableWindowID: TableDelta] = [:]
    public private(set) var keys: [KeyWindowID: KeyDelta] = [:]
    public private(set) var late: [LateChange] = []
    /// Number of changes folded in (on time and late).
    public private(set) var changeCount = 0
    private var tablesInTransaction: Set<TableWindowID> = []

    public init() {}

    public var isEmpty: Bool { changeCount == 0 }

    /// Marks the start of a source transaction, so each table counts it once.
    public mutating func beginTransaction() { tablesInTransaction.removeAll(keepingCapacity: true) }

    /// Folds one on-time row change into the batch.
    ///
    /// - Parameters:
    ///   - operation: what the table counts.
    ///   - keyOperations: what each affected key records, in order. Usually one entry with the
    ///     same operation; an update that changes a row's key records a delete of the old key
    ///     and an insert of the new one. Empty for truncates and tables without a key.
    public mutating func add(
        _ operation: RowOperation, keyOperations: [(RowOperation, String)], table: String, window: Window,
        at time: Timestamp
    ) {
        changeCount += 1
        let tableID = TableWindowID(windowStart: window.start, table: table)
        var delta = tables[tableID] ?? TableDelta(at: time)
        switch operation {
        case .insert: delta.inserts += 1
        case .update: delta.updates += 1
        case .delete: delta.deletes += 1
        case .truncate: delta.truncates += 1
        }
        if tablesInTransaction.insert(tableID).inserted { delta.transactions += 1 }
        delta.firstChange = min(delta.firstChange, time)
        delta.lastChange = max(delta.lastChange, time)
        tables[tableID] = delta

        for (keyOperation, key) in keyOperations {
            let keyID = KeyWindowID(windowStart: window.start, table: table, key: key)
            var keyDelta = keys[keyID] ?? KeyDelta(at: time)
            keyDelta.ops.append(keyOperation)
            keyDelta.firstChange = min(keyDelta.firstChange, time)
            keyDelta.lastChange = max(keyDelta.lastChange, time)
            keys[keyID] = keyDelta
        }
    }

    /// Records a late change: kept and counted, never merged into a closed window's results.
    public mutating func addLate(_ change: LateChange) {
        changeCount += 1
        late.append(change)
    }

    /// Empties the batch after the sink committed it.
    public mutating func reset() {
        tables.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: false)
        late.removeAll(keepingCapacity: false)
        changeCount = 0
    }
}
