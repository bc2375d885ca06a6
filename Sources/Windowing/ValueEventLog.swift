import WAL

/// The changes of tables captured at the `values` level since the last checkpoint, each with
/// its row images: what lets a closed day answer "what happened to this key", not only "that
/// something did".
///
/// Like ``KeyDeltaTable`` it keeps flat storage: every event's JSON texts (key, row images,
/// the list of unknown columns) live in one byte arena and each event refers to its pieces
/// by range, so recording an event costs two array appends once the storage has grown, and
/// ``removeAll()`` keeps that storage for the next batch. Its size is bounded by the batch
/// (the caller checkpoints or writes a part once ``byteCount`` is large), never by a day.
public struct ValueEventLog: Sendable {
    /// One change of one key, in the order the stream delivered it.
    public struct Event: Sendable {
        public var table: Int32
        public var operation: RowOperation
        /// Position of the change in its source transaction: orders events of one commit.
        public var sequence: Int32
        public var windowStart: Int64
        public var commitTime: Int64
        /// Commit LSN of the source transaction (Begin's final LSN).
        public var lsn: LSN
        /// Who made the change: an index into the checkpoint's attributions, or -1 for nobody.
        public var actor: Int32
        var key: Range<Int>
        var row: Range<Int>?
        var oldRow: Range<Int>?
        var oldKey: Range<Int>?
        var newKey: Range<Int>?
        var unchanged: Range<Int>?
    }

    /// The JSON texts of one event, as UTF-8. `nil` means "not present".
    public struct Images {
        /// The key the event belongs to (a JSON object of key column to text value).
        public var key: [UInt8]
        /// The row after the change (inserts and updates).
        public var row: [UInt8]?
        /// The row before the change, when the stream carried it whole (identity `FULL`).
        public var oldRow: [UInt8]?
        /// For the new key of a row whose key changed: the key it had before.
        public var oldKey: [UInt8]?
        /// For the old key of a row whose key changed: the key it has now.
        public var newKey: [UInt8]?
        /// A JSON array of column names whose (unchanged, TOASTed) value the stream did not send.
        public var unchanged: [UInt8]?

        public init(
            key: [UInt8],
            row: [UInt8]? = nil,
            oldRow: [UInt8]? = nil,
            oldKey: [UInt8]? = nil,
            newKey: [UInt8]? = nil,
            unchanged: [UInt8]? = nil
        ) {
            self.key = key
            self.row = row
            self.oldRow = oldRow
            self.oldKey = oldKey
            self.newKey = newKey
            self.unchanged = unchanged
        }
    }

    private var bytes: [UInt8] = []
    public private(set) var events: [Event] = []

    public init() {}

    public var count: Int { events.count }
    public var isEmpty: Bool { events.isEmpty }
    /// Bytes of JSON text held: row images can be large, so the caller bounds a batch by them.
    public var byteCount: Int { bytes.count }
    /// The windows the events fall in (their partitions must exist before they are written).
    public var windowStarts: Set<Int64> { Set(events.lazy.map(\.windowStart)) }

    /// Records one event; its texts are copied into the arena.
    public mutating func append(
        _ operation: RowOperation,
        images: Images,
        table: Int32,
        windowStart: Timestamp,
        at time: Timestamp,
        lsn: LSN,
        sequence: Int32,
        actor: Int32 = -1
    ) {
        let key = store(images.key)
        let row = store(images.row)
        let oldRow = store(images.oldRow)
        let oldKey = store(images.oldKey)
        let newKey = store(images.newKey)
        let unchanged = store(images.unchanged)
        events.append(
            Event(
                table: table,
                operation: operation,
                sequence: sequence,
                windowStart: windowStart.microsecondsSinceEpoch,
                commitTime: time.microsecondsSinceEpoch,
                lsn: lsn,
                actor: actor,
                key: key,
                row: row,
                oldRow: oldRow,
                oldKey: oldKey,
                newKey: newKey,
                unchanged: unchanged
            )
        )
    }

    private mutating func store(_ text: [UInt8]) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: text)
        return start..<bytes.count
    }

    private mutating func store(_ text: [UInt8]?) -> Range<Int>? {
        text.map { store($0) }
    }

    /// Empties the log, keeping its storage.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
    }

    // MARK: Reading

    /// The texts of event `index`, valid only inside `body`.
    public func withImages<Result>(at index: Int, _ body: (StoredImages) throws -> Result) rethrows -> Result {
        let event = events[index]
        return try bytes.withUnsafeBytes { all in
            func slice(_ range: Range<Int>?) -> UnsafeRawBufferPointer? {
                range.map { UnsafeRawBufferPointer(rebasing: all[$0]) }
            }
            return try body(
                StoredImages(
                    key: slice(event.key)!,
                    row: slice(event.row),
                    oldRow: slice(event.oldRow),
                    oldKey: slice(event.oldKey),
                    newKey: slice(event.newKey),
                    unchanged: slice(event.unchanged)
                )
            )
        }
    }

    /// An event's texts as borrowed bytes (see ``withImages(at:_:)``).
    public struct StoredImages {
        public var key: UnsafeRawBufferPointer
        public var row: UnsafeRawBufferPointer?
        public var oldRow: UnsafeRawBufferPointer?
        public var oldKey: UnsafeRawBufferPointer?
        public var newKey: UnsafeRawBufferPointer?
        public var unchanged: UnsafeRawBufferPointer?
    }
}
