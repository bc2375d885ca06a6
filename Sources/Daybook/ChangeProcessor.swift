import PgOutput
import Windowing

/// The pure heart of the pipeline: decoded pgoutput messages in, a checkpoint's worth of
/// window results out. No I/O, no clock.
///
/// It assembles transactions (Begin … Commit), skips those already in the sink (commit LSN
/// below the checkpoint), keys each change, places it in its window or records it as late,
/// and moves stream time at each commit. Heartbeat transactions move stream time only;
/// transactions with neither counted changes nor a heartbeat are ignored entirely.
public struct ChangeProcessor: Sendable {
    /// Tables and message prefixes with a special meaning.
    public struct Settings: Sendable {
        /// `schema.name` of the heartbeat table; its updates only move stream time.
        public var heartbeatTable = "daybook.heartbeat"
        /// Prefix of `pg_logical_emit_message` heartbeats.
        public var heartbeatMessagePrefix = Heartbeat.messagePrefix
        /// Changes to tables in this schema (the sink's own) are never counted, so a sink in
        /// the source database cannot feed back into itself.
        public var sinkSchema = "daybook"
        public init() {}
    }

    public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
        public let description: String
    }

    private struct OpenTransaction {
        var begin: Begin
        var commitTime: Timestamp
        var skip: Bool
        var placement: WindowingEngine.Placement?
        var hasData = false
        var sawHeartbeat = false
    }

    public let settings: Settings
    private var relations = RelationCache()
    private var shapes: [UInt32: KeyShape] = [:]
    public private(set) var engine: WindowingEngine
    private var batch = ChangeBatch()
    private var opened: [Window] = []
    private var closed: [WindowClosure] = []
    private var current: OpenTransaction?
    /// End LSN of the last transaction the sink has committed.
    public private(set) var committedLSN: UInt64
    /// End LSN of the last transaction processed but not yet in the sink.
    public private(set) var pendingLSN: UInt64?
    private var pendingTransactions = 0
    /// Transactions skipped because the sink already had them (replays after a crash).
    public private(set) var skippedTransactions = 0
    /// Commit time of the latest heartbeat seen in the stream.
    public private(set) var lastHeartbeat: Timestamp?

    public init(
        engine: WindowingEngine, committedLSN: UInt64, lastHeartbeat: Timestamp? = nil, settings: Settings = Settings()
    ) {
        self.engine = engine
        self.committedLSN = committedLSN
        self.lastHeartbeat = lastHeartbeat
        self.settings = settings
    }

    /// Whether a Begin has been seen without its Commit.
    public var inTransaction: Bool { current != nil }

    /// Changes waiting for the next checkpoint.
    public var pendingChanges: Int { batch.changeCount }

    /// Whether there is anything to write: processed transactions or closed windows.
    public var hasPendingCheckpoint: Bool { pendingLSN != nil || !closed.isEmpty }

    /// Whether windows closed since the last checkpoint (write them promptly).
    public var hasClosedWindows: Bool { !closed.isEmpty }

    /// Registers a table's shape. The pipeline calls this for each Relation message, with the
    /// table's primary key columns looked up from the catalog (nil when it has none).
    public mutating func register(_ relation: Relation, primaryKey: [String]?) {
        relations.update(relation)
        shapes[relation.oid] = KeyShape(relation: relation, primaryKey: primaryKey)
    }

    /// The cached relation for an OID, if its Relation message has been seen.
    public func relation(_ oid: UInt32) -> Relation? { relations[oid] }

    /// Moves stream time to a server clock reading whose WAL insert position the stream has
    /// since received in full (the opt-in idle watermark). Only between transactions with
    /// nothing pending, so the watermark never overtakes data that was already received.
    ///
    /// - Returns: whether any window closed.
    @discardableResult
    public mutating func advanceIdle(to serverTime: Timestamp) -> Bool {
        guard current == nil, !hasPendingCheckpoint else { return false }
        let closures = engine.advance(to: serverTime)
        closed += closures.map { WindowClosure(window: $0, reason: .idle, streamTime: serverTime) }
        return !closures.isEmpty
    }

    /// Closes every window already due at the persisted stream time (service start-up).
    public mutating func closeDueAtStartup() {
        guard let streamTime = engine.streamTime else { return }
        closed += engine.closeDue().map { WindowClosure(window: $0, reason: .startup, streamTime: streamTime) }
    }

    /// Folds one decoded message in.
    public mutating func process(_ message: PgOutputMessage) throws(ProtocolError) {
        switch message {
        case .begin(let begin):
            guard current == nil else { throw ProtocolError(description: "Begin inside a transaction (xid \(begin.xid))") }
            current = OpenTransaction(
                begin: begin,
                commitTime: Timestamp(postgresMicroseconds: begin.commitTime),
                skip: begin.finalLSN.rawValue < committedLSN)
            batch.beginTransaction()
        case .commit(let commit):
            try finish(commit)
        case .relation(let relation):
            register(relation, primaryKey: nil)
        case .origin, .type:
            break
        case .insert(let insert):
            let shape = try shape(for: insert.relationOID)
            try record(.insert, relationOID: insert.relationOID, keys: keyed(.insert, shape.key(of: insert.new)))
        case .update(let update):
            try recordUpdate(update)
        case .delete(let delete):
            let shape = try shape(for: delete.relationOID)
            try record(.delete, relationOID: delete.relationOID, keys: keyed(.delete, shape.key(of: delete.old)))
        case .truncate(let truncate):
            for oid in truncate.relationOIDs {
                _ = try shape(for: oid)
                try record(.truncate, relationOID: oid, keys: [])
            }
        case .message(let message):
            if message.transactional, message.prefix == settings.heartbeatMessagePrefix, current != nil {
                current?.sawHeartbeat = true
            }
        }
    }

    /// Takes what the next sink transaction must write, and starts a new batch.
    ///
    /// The processor assumes the write will succeed; if it fails, the pipeline rebuilds the
    /// processor from the sink's checkpoint and the slot replays the rest.
    public mutating func takeCheckpoint() -> Checkpoint? {
        guard hasPendingCheckpoint, current == nil else { return nil }
        let checkpoint = Checkpoint(
            batch: batch, opened: opened, closed: closed, lsn: pendingLSN ?? committedLSN,
            streamTime: engine.streamTime, lastHeartbeat: lastHeartbeat, transactions: pendingTransactions)
        batch.reset()
        opened.removeAll()
        closed.removeAll()
        pendingTransactions = 0
        return checkpoint
    }

    /// Records that the sink committed a checkpoint up to `lsn`.
    public mutating func checkpointCommitted(lsn: UInt64) {
        committedLSN = max(committedLSN, lsn)
        if let pending = pendingLSN, pending <= committedLSN { pendingLSN = nil }
    }

    private func shape(for oid: UInt32) throws(ProtocolError) -> KeyShape {
        guard let shape = shapes[oid] else {
            throw ProtocolError(description: "a change arrived for relation \(oid) before its Relation message")
        }
        return shape
    }

    private mutating func recordUpdate(_ update: Update) throws(ProtocolError) {
        let shape = try shape(for: update.relationOID)
        let newKey = shape.key(of: update.new, fallback: update.old)
        if let old = update.old, let oldKey = shape.key(of: old), let newKey, oldKey != newKey {
            // The row's identity changed: one update for the table; for keys, the old one is
            // gone and a new one exists.
            try record(.update, relationOID: update.relationOID, keys: [(.delete, oldKey), (.insert, newKey)])
        } else {
            try record(.update, relationOID: update.relationOID, keys: keyed(.update, newKey))
        }
    }

    private func keyed(_ operation: RowOperation, _ key: String?) -> [(RowOperation, String)] {
        key.map { [(operation, $0)] } ?? []
    }

    /// Records one row operation of the current transaction, on time or late.
    private mutating func record(
        _ operation: RowOperation, relationOID: UInt32, keys: [(RowOperation, String)]
    ) throws(ProtocolError) {
        guard var transaction = current else {
            throw ProtocolError(description: "a change arrived outside a transaction")
        }
        defer { current = transaction }
        if transaction.skip { return }
        guard let relation = relations[relationOID] else { return }
        let table = relation.qualifiedName
        if table == settings.heartbeatTable {
            transaction.sawHeartbeat = true
            return
        }
        if relation.namespace == settings.sinkSchema { return }
        transaction.hasData = true
        let placement = transaction.placement ?? engine.place(transaction.commitTime)
        if transaction.placement == nil {
            transaction.placement = placement
            if case .onTime(let window, opened: true) = placement { opened.append(window) }
        }
        switch placement {
        case .onTime(let window, _):
            batch.add(operation, keyOperations: keys, table: table, window: window, at: transaction.commitTime)
        case .late(let window):
            batch.addLate(
                LateChange(
                    window: window, table: table, key: keys.last?.1, operation: operation,
                    commitTime: transaction.commitTime, lsn: transaction.begin.finalLSN.rawValue,
                    xid: transaction.begin.xid))
        }
    }

    private mutating func finish(_ commit: Commit) throws(ProtocolError) {
        guard let transaction = current else { throw ProtocolError(description: "Commit without Begin") }
        current = nil
        if transaction.skip {
            skippedTransactions += 1
            return
        }
        // A transaction with nothing counted and no heartbeat (only the sink's own tables, or
        // other applications' messages) is invisible: it must not move stream time, or a sink
        // inside a published database would drive its own clock. The slot still moves past
        // it when the stream is idle.
        guard transaction.hasData || transaction.sawHeartbeat else { return }
        if transaction.sawHeartbeat { lastHeartbeat = max(lastHeartbeat ?? transaction.commitTime, transaction.commitTime) }
        let reason: CloseReason = !transaction.hasData && transaction.sawHeartbeat ? .heartbeat : .data
        let commitTime = Timestamp(postgresMicroseconds: commit.commitTime)
        closed += engine.advance(to: commitTime).map { WindowClosure(window: $0, reason: reason, streamTime: commitTime) }
        pendingLSN = commit.endLSN.rawValue
        pendingTransactions += 1
    }
}
