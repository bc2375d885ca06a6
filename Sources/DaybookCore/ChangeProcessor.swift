import PgOutput
import WAL
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
        public var heartbeatMessagePrefix = HeartbeatMessage.prefix
        /// Changes to tables in this schema (the sink's own) are never counted, so a sink in
        /// the source database cannot feed back into itself.
        public var sinkSchema = "daybook"
        /// The slot being read: `daybook.capture` messages for other slots are ignored.
        public var slot = ""
        /// Reads the hash key of a rule (its key file and the key id it was set with): the
        /// key, or why it cannot be used. Given by the I/O side; the processor reads no file.
        public var valueKey: @Sendable (_ file: String, _ id: String) -> Result<ValueKey, ValueKeyProblem> = {
            file,
            _ in
            .failure(ValueKeyProblem("no key loader was given to read \(file)"))
        }
        public init() {}
    }

    public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
        public let description: String
        /// Whether it is the operator's to fix (a key file), not the stream's fault.
        public let isConfiguration: Bool
        public init(description: String, isConfiguration: Bool = false) {
            self.description = description
            self.isConfiguration = isConfiguration
        }
    }

    /// Why a rule's hash key cannot be used, in words that say what to do.
    public struct ValueKeyProblem: Error, Sendable {
        public let message: String
        public init(_ message: String) { self.message = message }
    }

    private struct OpenTransaction {
        var begin: Begin
        var commitTime: Timestamp
        var skip: Bool
        var placement: WindowingEngine.Placement?
        var hasData = false
        var sawHeartbeat = false
        /// Changes recorded since the transaction began or was last written in part.
        var unspilledChanges = 0
        /// Position of the next change in the transaction, for the order of its events.
        var nextSequence: Int32 = 0
        /// Whether the transaction announced a capture rule (it then needs a checkpoint).
        var announcedRule = false
        /// Whether a table's shape changed in it (it then needs a checkpoint).
        var changedShape = false
        /// The replication origin of a transaction another node applied.
        var origin = ""
        /// Who `daybook.act_as` said acts from here on (an index into the tally), or nil for
        /// nobody; `declaredRefused` when its last call was refused (unattributed after it).
        var declared: Int32?
        var declaredRefused = false
        /// Who the statement triggers said run the current statements, by table name (a
        /// trigger's claim covers its own table's changes only), and the same by the batch's
        /// table index once a change of that table was seen.
        var statements: [String: Int32] = [:]
        var statementsByIndex: [Int32: Int32] = [:]
        /// The transaction's origin alone, interned when a change needs it.
        var originOnly: Int32?

        /// Where the next change of the transaction goes.
        struct Change {
            let begin: Begin
            let commitTime: Timestamp
            /// Its window (or lateness), placed at the transaction's first change.
            let placement: WindowingEngine.Placement
            /// Whether the placement was made for this change (the transaction's first).
            let placedNow: Bool
            /// Whether it is the transaction's first change with data.
            let isFirst: Bool
            let sequence: Int32
        }

        /// Counts one more change and says where it goes.
        mutating func nextChange(placing engine: inout WindowingEngine) -> Change {
            let isFirst = !hasData
            hasData = true
            let placedNow = placement == nil
            let placed = placement ?? engine.place(commitTime)
            placement = placed
            unspilledChanges += 1
            let sequence = nextSequence
            nextSequence &+= 1
            return Change(
                begin: begin,
                commitTime: commitTime,
                placement: placed,
                placedNow: placedNow,
                isFirst: isFirst,
                sequence: sequence
            )
        }
    }

    /// What the processor knows of a table from its Relation message.
    ///
    /// Immutable, and a class for the same reason as ``Capture``: every change looks its table
    /// up, and a reference is one retain. A new rule or Relation message replaces it whole.
    private final class TableInfo: Sendable {
        enum Role { case counted, heartbeat, sinkOwn }
        let role: Role
        let index: Int32
        let shape: KeyShape
        /// The table's capture rules, oldest first, each with how a row is kept under it (or
        /// why it cannot be: a hash key that cannot be read).
        let captures: [(since: LSN, capture: Capture, problem: String?)]

        init(role: Role, index: Int32, shape: KeyShape, captures: [(since: LSN, capture: Capture, problem: String?)]) {
            self.role = role
            self.index = index
            self.shape = shape
            self.captures = captures
        }

        /// How a transaction committed at `lsn` is kept. Without a rule a table is captured at
        /// `keys`. A rule whose hash key cannot be read stops the stream: storing its values
        /// unhashed, or hashed under another key, is never right.
        func capture(forCommitAt lsn: LSN) throws(ProtocolError) -> Capture {
            var position = captures.endIndex
            while position > captures.startIndex {
                position -= 1
                guard captures[position].since < lsn else { continue }
                if let problem = captures[position].problem {
                    throw ProtocolError(description: problem, isConfiguration: true)
                }
                return captures[position].capture
            }
            return Capture.keysOnly
        }
    }

    public let settings: Settings
    private var relations = RelationCache()
    private var tables: [UInt32: TableInfo] = [:]
    public private(set) var engine: WindowingEngine
    private var batch = ChangeBatch()
    /// Attributed changes of the batch (``Attribution``).
    private var attribution = AttributionTally()
    /// Refused actor messages of the batch, by kind.
    private var attributionProblems: [AttributionProblem: Int] = [:]
    private var opened: [Window] = []
    private var closed: [WindowClosure] = []
    private var current: OpenTransaction?
    /// Reused key buffers: building a key allocates nothing once they have grown.
    private var keyBuffer: [UInt8] = []
    private var oldKeyBuffer: [UInt8] = []
    /// Reused row image buffers, for `values` tables.
    private var rowBuffer: [UInt8] = []
    private var oldRowBuffer: [UInt8] = []
    private var unknownBuffer: [UInt8] = []
    private var oldUnknownBuffer: [UInt8] = []
    private var captureRules: CaptureRules
    /// Hash keys read so far, by key id.
    private var valueKeys: [String: ValueKey] = [:]
    /// Capture rules seen in the stream since the last checkpoint, which records them.
    private var newRules: [CaptureRule] = []
    /// The latest shape of each table the sink kept or the next checkpoint will keep.
    private var knownShapes: [UInt32: Relation] = [:]
    /// Shapes seen since the last checkpoint that differ from the known ones.
    private var newShapes: [TableShape] = []
    /// Order and validity of the next write's per-key rows (see ``KeyTag``).
    private var keyTag = KeyTag(lsn: 0, part: 0)
    /// End LSN of the last transaction the sink has committed.
    public private(set) var committedLSN: LSN
    /// End LSN of the last transaction processed but not yet taken for a checkpoint.
    public private(set) var pendingLSN: LSN?
    /// End LSN of the last transaction processed (taken for a checkpoint or not).
    public private(set) var processedLSN: LSN
    private var pendingTransactions = 0
    /// Commit time of the first transaction folded into the pending checkpoint.
    private var pendingFirstCommit: Timestamp?
    /// Transactions skipped because the sink already had them (replays after a crash).
    public private(set) var skippedTransactions = 0
    /// Commit time of the latest heartbeat seen in the stream.
    public private(set) var lastHeartbeat: Timestamp?

    /// - Parameters:
    ///   - captureRules: the slot's capture rules as the sink holds them; rules that arrive in
    ///     the stream later are added as they come.
    ///   - tableShapes: the latest shape the sink kept of each table: a Relation message that
    ///     matches one is no change.
    public init(
        engine: WindowingEngine,
        committedLSN: LSN,
        lastHeartbeat: Timestamp? = nil,
        captureRules: [CaptureRule] = [],
        tableShapes: [Relation] = [],
        settings: Settings = Settings()
    ) {
        for shape in tableShapes { knownShapes[shape.oid] = shape }
        self.captureRules = CaptureRules(captureRules)
        self.engine = engine
        self.committedLSN = committedLSN
        self.processedLSN = committedLSN
        self.lastHeartbeat = lastHeartbeat
        self.settings = settings
    }

    /// Whether a Begin has been seen without its Commit.
    ///
    /// Asked for every message. It reads one field through the optional: `current != nil`
    /// copied the whole open transaction, retaining its dictionaries, each time.
    public var inTransaction: Bool { current?.skip != nil }

    /// Changes waiting for the next checkpoint.
    public var pendingChanges: Int { batch.changeCount }

    /// Bytes of key text and row images waiting for the next checkpoint or part.
    public var pendingBytes: Int { batch.byteCount }

    /// Changes of the open transaction not yet written in part (see ``takeSpill()``).
    public var unspilledTransactionChanges: Int { current?.unspilledChanges ?? 0 }

    /// Whether there is anything to write: processed transactions or closed windows not yet
    /// taken for a checkpoint.
    public var hasPendingCheckpoint: Bool {
        pendingLSN != nil || !closed.isEmpty || !newRules.isEmpty || !newShapes.isEmpty
    }

    /// Whether everything processed is in the sink: nothing open, pending or being written.
    /// Only then may the slot be confirmed beyond the last checkpoint (up to the server's
    /// WAL end, past transactions that carried nothing to count).
    public var isFullyCommitted: Bool { !inTransaction && !hasPendingCheckpoint && processedLSN <= committedLSN }

    /// Whether windows closed since the last checkpoint (write them promptly).
    public var hasClosedWindows: Bool { !closed.isEmpty }

    /// Registers a table's shape. The pipeline calls this for each Relation message, with the
    /// table's primary key columns looked up from the catalog (nil when it has none).
    public mutating func register(_ relation: Relation, primaryKey: [String]?) {
        relations.update(relation)
        let name = relation.qualifiedName
        let role: TableInfo.Role =
            name == settings.heartbeatTable
            ? .heartbeat : relation.namespace == settings.sinkSchema ? .sinkOwn : .counted
        let shape = KeyShape(relation: relation, primaryKey: primaryKey)
        tables[relation.oid] = TableInfo(
            role: role,
            index: batch.tableIndex(name),
            shape: shape,
            captures: captures(of: relation, shape: shape)
        )
        if role == .counted { noteShape(relation) }
    }

    /// Keeps a counted table's shape for the next checkpoint when it differs from the last one
    /// kept, dated by the transaction it arrived in (its first change under the shape).
    ///
    /// pgoutput sends Relation messages inside transactions; one registered outside any (a
    /// caller setting the processor up) is taken as known. One in a transaction the sink
    /// already has (a replay after a restart) is still kept: the server does not describe the
    /// table again on this connection.
    private mutating func noteShape(_ relation: Relation) {
        guard knownShapes[relation.oid] != relation else { return }
        knownShapes[relation.oid] = relation
        guard current != nil else { return }
        let shape = TableShape(
            relation: relation,
            lsn: current?.begin.finalLSN ?? processedLSN,
            commitTime: current?.commitTime
        )
        // Two shapes in one transaction (DDL between its changes): the sink keeps one row per
        // table and commit, the later shape.
        if let index = newShapes.lastIndex(where: { $0.relation.oid == relation.oid && $0.lsn == shape.lsn }) {
            newShapes[index] = shape
        } else {
            newShapes.append(shape)
        }
        current?.changedShape = true
    }

    /// A table's capture levels, from its rules.
    private mutating func captures(
        of relation: Relation,
        shape: KeyShape
    ) -> [(since: LSN, capture: Capture, problem: String?)] {
        captureRules.rules(for: relation.qualifiedName).map { rule in
            // A hashed or masked column renamed or dropped since the rule: its new name would be
            // kept as it is. Stop, and let the operator set the rule again.
            let names = Set(relation.columns.map(\.name))
            if let gone = (rule.hashedColumns + rule.maskedColumns).first(where: { !names.contains($0) }) {
                return (
                    rule.sinceLSN, Capture(level: rule.level),
                    "column \(gone) of \(rule.table), which the capture rule from LSN \(rule.sinceLSN) hashes or masks, "
                        + "is gone (renamed or dropped): set the rule again with daybook capture \(rule.table) "
                        + "\(rule.level.rawValue) --hash … --mask … --key-file …, naming the columns as they are now"
                )
            }
            var key: ValueKey?
            if !rule.hashedColumns.isEmpty || !rule.maskedColumns.isEmpty {
                switch valueKey(for: rule) {
                case .success(let found): key = found
                case .failure(let problem): return (rule.sinceLSN, Capture(level: rule.level), problem.message)
                }
            }
            var keyHashing: KeyHashing?
            if let key {
                let hashed = shape.positions.map { rule.hashedColumns.contains(relation.columns[$0].name) }
                if hashed.contains(true) { keyHashing = KeyHashing(hashed: hashed, key: key) }
            }
            let image =
                rule.level == .values
                ? RowImageShape(relation: relation, keyPositions: shape.positions, rule: rule, key: key) : nil
            return (rule.sinceLSN, Capture(level: rule.level, image: image, keyHashing: keyHashing), nil)
        }
    }

    /// A rule's hash key, read once per key id.
    private mutating func valueKey(for rule: CaptureRule) -> Result<ValueKey, ValueKeyProblem> {
        guard let file = rule.keyFile, let id = rule.keyID else {
            return .failure(
                ValueKeyProblem(
                    "the capture rule of \(rule.table) from LSN \(rule.sinceLSN) hashes or masks columns without a key file"
                )
            )
        }
        if let key = valueKeys[id] { return .success(key) }
        let result = settings.valueKey(file, id)
        if case .success(let key) = result { valueKeys[id] = key }
        return result.mapError { problem in
            ValueKeyProblem(
                "the capture rule of \(rule.table) from LSN \(rule.sinceLSN) hashes or masks "
                    + (rule.hashedColumns + rule.maskedColumns).joined(separator: ", ")
                    + " with the key in \(file): \(problem.message)"
            )
        }
    }

    /// Takes a capture rule announced in the stream: from then on its table is captured at
    /// its level (see ``CaptureRule``).
    private mutating func learn(_ rule: CaptureRule) {
        guard settings.slot.isEmpty || rule.slot == settings.slot, captureRules.add(rule) else { return }
        newRules.append(rule)
        for (oid, table) in tables {
            guard let relation = relations[oid], relation.qualifiedName == rule.table else { continue }
            tables[oid] = TableInfo(
                role: table.role,
                index: table.index,
                shape: table.shape,
                captures: captures(of: relation, shape: table.shape)
            )
        }
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

    /// Folds one decoded message in: the service's path, reading row images in place from
    /// `bytes`, the payload the message was decoded from.
    public mutating func process(_ message: InPlaceMessage, in bytes: UnsafeRawBufferPointer) throws(ProtocolError) {
        switch message {
        case .insert(let oid, let new):
            try recordInsert(oid, InPlaceRow(layout: new, bytes: bytes))
        case .update(let oid, let oldKind, let old, let new):
            try recordUpdate(
                oid,
                old: old.map { InPlaceRow(layout: $0, bytes: bytes) },
                oldIsWhole: oldKind == .full,
                new: InPlaceRow(layout: new, bytes: bytes)
            )
        case .delete(let oid, let oldKind, let old):
            try recordDelete(oid, InPlaceRow(layout: old, bytes: bytes), oldIsWhole: oldKind == .full)
        case .begin(let begin): try process(.begin(begin))
        case .commit(let commit): try process(.commit(commit))
        case .origin(let origin): try process(.origin(origin))
        case .relation(let relation): try process(.relation(relation))
        case .type(let type): try process(.type(type))
        case .truncate(let truncate): try process(.truncate(truncate))
        case .message(let message): try process(.message(message))
        case .streamStart, .streamStop, .streamCommit, .streamAbort:
            throw Self.streamedMessageError
        }
    }

    /// Streamed transactions reach the processor only as ordinary ones, replayed at their
    /// commit (see ``StreamedTransactions``).
    private static let streamedMessageError = ProtocolError(
        description: "a streamed-transaction message reached the change processor (they are held until their commit)"
    )

    /// Folds one decoded message in.
    public mutating func process(_ message: PgOutputMessage) throws(ProtocolError) {
        switch message {
        case .begin(let begin):
            guard current == nil else {
                throw ProtocolError(description: "Begin inside a transaction (xid \(begin.xid))")
            }
            current = OpenTransaction(
                begin: begin,
                commitTime: Timestamp(postgresMicroseconds: begin.commitTime),
                skip: begin.finalLSN < committedLSN
            )
            batch.beginTransaction()
        case .commit(let commit):
            try finish(commit)
        case .relation(let relation):
            register(relation, primaryKey: nil)
        case .origin(let origin):
            current?.origin = origin.name
        case .type:
            break
        case .insert(let insert):
            try recordInsert(insert.relationOID, insert.new)
        case .update(let update):
            try recordUpdate(update.relationOID, old: update.old, oldIsWhole: update.oldKind == .full, new: update.new)
        case .delete(let delete):
            try recordDelete(delete.relationOID, delete.old, oldIsWhole: delete.oldKind == .full)
        case .truncate(let truncate):
            for oid in truncate.relationOIDs {
                let table = try table(for: oid)
                try record(.truncate, table: table, keys: nil, level: capture(table).level)
            }
        case .message(let message) where message.prefix == ActorClaim.messagePrefix:
            noteActor(message)
        case .message(let message) where !message.transactional:
            // `daybook capture` announces a rule outside any transaction: the server sends it
            // at its own place in the WAL, so every transaction committed after it (the rule's
            // `sinceLSN`) is decoded after it, live and in a replay alike.
            guard current == nil, let rule = CaptureRule(message: message) else { break }
            learn(rule)
            pendingLSN = max(pendingLSN ?? 0, message.lsn)
            processedLSN = max(processedLSN, message.lsn)
        case .message(let message):
            guard current != nil else { break }
            if message.prefix == settings.heartbeatMessagePrefix {
                current?.sawHeartbeat = true
            } else if let rule = CaptureRule(message: message) {
                // A rule announced in a transaction (before this release): learned at its commit.
                learn(rule)
                current?.announcedRule = true
            }
        case .streamStart, .streamStop, .streamCommit, .streamAbort:
            throw Self.streamedMessageError
        }
    }

    /// Takes what the next sink transaction must write, and starts a new batch.
    ///
    /// The processor assumes the write will succeed; if it fails, the pipeline rebuilds the
    /// processor from the sink's checkpoint and the slot replays the rest.
    public mutating func takeCheckpoint() -> Checkpoint? {
        guard hasPendingCheckpoint, current == nil else { return nil }
        let checkpoint = Checkpoint(
            batch: batch,
            keyTag: keyTag,
            opened: opened,
            closed: closed,
            lsn: pendingLSN ?? processedLSN,
            streamTime: engine.streamTime,
            lastHeartbeat: lastHeartbeat,
            transactions: pendingTransactions,
            captureRules: newRules,
            firstCommitTime: pendingFirstCommit,
            tableShapes: newShapes,
            attribution: attribution,
            attributionProblems: attributionProblems
        )
        batch.reset()
        attribution = AttributionTally()
        attributionProblems.removeAll()
        newRules.removeAll()
        newShapes.removeAll()
        opened.removeAll()
        closed.removeAll()
        pendingTransactions = 0
        pendingFirstCommit = nil
        pendingLSN = nil
        return checkpoint
    }

    /// Takes the keyed part of the batch (per-key operations and late changes) while a large
    /// transaction is still open, so that memory stays bounded however large it grows.
    ///
    /// The sink stores these rows tagged with the open transaction's commit LSN: they count
    /// only once a checkpoint has passed that commit, and a restart before that deletes them
    /// (the slot sends the whole transaction again). Per-table counts, opened windows and the
    /// resume point stay in memory for the checkpoint.
    public mutating func takeSpill() -> Spill? {
        guard var transaction = current, !transaction.skip, transaction.hasData else { return nil }
        let (keys, events, late) = batch.takeKeyedPart()
        let spill = Spill(
            keys: keys,
            events: events,
            late: late,
            tableNames: batch.tableNames,
            keyTag: keyTag,
            attributions: attribution.attributions
        )
        keyTag.part += 1
        transaction.unspilledChanges = 0
        current = transaction
        return spill
    }

    /// Records that the sink committed a checkpoint up to `lsn`.
    public mutating func checkpointCommitted(lsn: LSN) {
        committedLSN = max(committedLSN, lsn)
    }

    private func table(for oid: UInt32) throws(ProtocolError) -> TableInfo {
        guard let table = tables[oid] else {
            throw ProtocolError(description: "a change arrived for relation \(oid) before its Relation message")
        }
        return table
    }

    /// The capture level of `table` for the current transaction (`keys` outside one: the
    /// change is refused later anyway).
    private func capture(_ table: TableInfo) throws(ProtocolError) -> Capture {
        try table.capture(forCommitAt: current?.begin.finalLSN ?? 0)
    }

    private mutating func recordInsert<Row: RowImage>(_ oid: UInt32, _ new: Row) throws(ProtocolError) {
        let table = try table(for: oid)
        let capture = try capture(table)
        let hasKey =
            capture.level != .counts && table.shape.key(of: new, into: &keyBuffer, hashing: capture.keyHashing)
        if hasKey {
            capture.image?.image(of: new, fallback: nil, into: &rowBuffer, unknown: &unknownBuffer)
        }
        try record(
            .insert,
            table: table,
            keys: hasKey ? .one(.insert) : nil,
            level: capture.level,
            images: capture.image != nil ? .new : nil
        )
    }

    private mutating func recordDelete<Row: RowImage>(_ oid: UInt32, _ old: Row, oldIsWhole: Bool) throws(ProtocolError)
    {
        let table = try table(for: oid)
        let capture = try capture(table)
        let hasKey =
            capture.level != .counts && table.shape.key(of: old, into: &keyBuffer, hashing: capture.keyHashing)
        // Only a whole old row (identity FULL) is an image; a key-only one is the key itself.
        if hasKey, oldIsWhole {
            capture.image?.image(of: old, fallback: nil, into: &oldRowBuffer, unknown: &oldUnknownBuffer)
        }
        try record(
            .delete,
            table: table,
            keys: hasKey ? .one(.delete) : nil,
            level: capture.level,
            images: capture.image == nil ? nil : oldIsWhole ? .old : EventImages()
        )
    }

    private mutating func recordUpdate<Row: RowImage>(
        _ oid: UInt32,
        old: Row?,
        oldIsWhole: Bool,
        new: Row
    ) throws(ProtocolError) {
        let table = try table(for: oid)
        let capture = try capture(table)
        let hashing = capture.keyHashing
        let hasNewKey =
            capture.level != .counts && table.shape.key(of: new, fallback: old, into: &keyBuffer, hashing: hashing)
        var images: EventImages?
        if hasNewKey, capture.image != nil {
            // Unchanged TOASTed values come from the old row only when it is whole: a key-only
            // old row holds NULL in every other column.
            let whole = oldIsWhole ? old : nil
            capture.image?.image(of: new, fallback: whole, into: &rowBuffer, unknown: &unknownBuffer)
            if let whole {
                capture.image?.image(of: whole, fallback: nil, into: &oldRowBuffer, unknown: &oldUnknownBuffer)
            }
            images = oldIsWhole ? [.new, .old] : .new
        }
        if hasNewKey, let old, table.shape.key(of: old, into: &oldKeyBuffer, hashing: hashing),
            oldKeyBuffer != keyBuffer
        {
            // The row's identity changed: one update for the table; for keys, the old one is
            // gone and a new one exists.
            try record(.update, table: table, keys: .moved, level: capture.level, images: images)
        } else {
            try record(
                .update,
                table: table,
                keys: hasNewKey ? .one(.update) : nil,
                level: capture.level,
                images: images
            )
        }
    }

    /// Which row images of a change were built into the buffers (for `values` tables).
    private struct EventImages: OptionSet {
        let rawValue: UInt8
        /// `rowBuffer` holds the new row (and `unknownBuffer` its unknown columns).
        static let new = EventImages(rawValue: 1)
        /// `oldRowBuffer` holds the whole old row.
        static let old = EventImages(rawValue: 2)
    }

    /// Which keys a change touches: the key in `keyBuffer` with one operation, or a key that
    /// moved from `oldKeyBuffer` (deleted) to `keyBuffer` (inserted).
    private enum KeyEffect {
        case one(RowOperation)
        case moved
    }

    /// Records one row operation of the current transaction, on time or late; with `images`,
    /// also its event (a `values` table).
    private mutating func record(
        _ operation: RowOperation,
        table: TableInfo,
        keys: KeyEffect?,
        level: CaptureLevel,
        images: EventImages? = nil
    ) throws(ProtocolError) {
        guard let skip = current?.skip else {
            throw ProtocolError(description: "a change arrived outside a transaction")
        }
        if skip { return }
        switch table.role {
        case .heartbeat:
            current?.sawHeartbeat = true
            return
        case .sinkOwn:
            return
        case .counted:
            break
        }
        // In place: a copy of the open transaction per change retained its dictionaries.
        guard let change = current?.nextChange(placing: &engine) else { return }
        let transaction = change.begin
        if change.isFirst { keyTag = KeyTag(lsn: transaction.finalLSN, part: 0) }
        if change.placedNow, case .onTime(let window, opened: true) = change.placement { opened.append(window) }
        let sequence = change.sequence
        let time = change.commitTime
        switch change.placement {
        case .onTime(let window, _):
            batch.countChange(operation, table: table.index, window: window, at: time, level: level)
            let who = attributionIndex(table: table.index)
            if let who { attribution.count(who, table: table.index, windowStart: window.start) }
            switch keys {
            case .one(let keyOperation):
                addKey(keyOperation, keyBuffer, table: table.index, window: window, at: time)
            case .moved:
                addKey(.delete, oldKeyBuffer, table: table.index, window: window, at: time)
                addKey(.insert, keyBuffer, table: table.index, window: window, at: time)
            case nil:
                break
            }
            if let images, let keys {
                addEvents(
                    operation,
                    keys: keys,
                    images: images,
                    table: table.index,
                    window: window,
                    at: time,
                    lsn: transaction.finalLSN,
                    sequence: sequence,
                    actor: who ?? -1
                )
            }
        case .late(let window):
            let key: String? = keys == nil ? nil : String(decoding: keyBuffer, as: UTF8.self)
            batch.addLate(
                LateChange(
                    window: window,
                    table: batch.tableNames[Int(table.index)],
                    key: key,
                    operation: operation,
                    commitTime: time,
                    lsn: transaction.finalLSN,
                    xid: transaction.xid
                )
            )
        }
    }

    /// Takes an actor message of the open transaction: who acts in it from here on.
    private mutating func noteActor(_ message: LogicalMessage) {
        guard current?.skip != true else { return }
        switch ActorClaim.parse(message) {
        case .failure(let problem):
            attributionProblems[problem, default: 0] += 1
            // What follows a refused message is unattributed until the next valid one. A
            // message outside any transaction is decoded apart from every transaction's changes
            // (the server sends it at once): it changes nothing in the open one.
            guard current != nil, problem != .notTransactional else { return }
            current?.declared = nil
            current?.declaredRefused = true
            current?.statements.removeAll()
            current?.statementsByIndex.removeAll()
        case .success(let claim):
            guard let origin = current?.origin else { return }
            let index = attribution.index(
                of: Attribution(actor: claim.actor, application: claim.application, origin: origin)
            )
            switch claim.via {
            case .actAs:
                current?.declared = index
                current?.declaredRefused = false
            case .trigger:
                current?.statements[claim.table ?? ""] = index
                current?.statementsByIndex.removeAll()
                current?.declaredRefused = false
            }
        }
    }

    /// Who the current change (of the table at `table` in the batch) is attributed to: what
    /// `act_as` declared, else what the statement trigger of its table said, else the
    /// transaction's replication origin; nil: nobody.
    private mutating func attributionIndex(table: Int32) -> Int32? {
        // Read in place: a copy of the open transaction per change retained its dictionaries.
        guard current != nil else { return nil }
        if let declared = current?.declared { return declared }
        if current?.declaredRefused == true { return nil }
        if current?.statements.isEmpty == false {
            if let statement = current?.statementsByIndex[table] { return statement }
            // A claim names its table; one without a name (an older trigger) covers every table.
            if let statement = current?.statements[batch.tableNames[Int(table)]] ?? current?.statements[""] {
                current?.statementsByIndex[table] = statement
                return statement
            }
        }
        guard current?.origin.isEmpty == false, let origin = current?.origin else { return nil }
        if let index = current?.originOnly { return index }
        let index = attribution.index(of: Attribution(origin: origin))
        current?.originOnly = index
        return index
    }

    /// Records the event(s) of one change from the buffers: one for its key, or, when the
    /// key changed, a delete on the old key (naming the new one) and an insert on the new key
    /// (naming the old one), so that each key's events match its operations.
    private mutating func addEvents(
        _ operation: RowOperation,
        keys: KeyEffect,
        images: EventImages,
        table: Int32,
        window: Window,
        at time: Timestamp,
        lsn: LSN,
        sequence: Int32,
        actor: Int32
    ) {
        let row = images.contains(.new) ? rowBuffer : nil
        let unknown = images.contains(.new) && !unknownBuffer.isEmpty ? unknownBuffer : nil
        let oldRow = images.contains(.old) ? oldRowBuffer : nil
        switch keys {
        case .one(let keyOperation):
            batch.addEvent(
                keyOperation,
                images: .init(
                    key: keyBuffer,
                    row: keyOperation == .delete ? nil : row,
                    oldRow: oldRow,
                    unchanged: unknown
                ),
                table: table,
                windowStart: window.start,
                at: time,
                lsn: lsn,
                sequence: sequence,
                actor: actor
            )
        case .moved:
            batch.addEvent(
                .delete,
                images: .init(key: oldKeyBuffer, oldRow: oldRow, newKey: keyBuffer),
                table: table,
                windowStart: window.start,
                at: time,
                lsn: lsn,
                sequence: sequence,
                actor: actor
            )
            batch.addEvent(
                .insert,
                images: .init(key: keyBuffer, row: row, oldKey: oldKeyBuffer, unchanged: unknown),
                table: table,
                windowStart: window.start,
                at: time,
                lsn: lsn,
                sequence: sequence,
                actor: actor
            )
        }
    }

    private mutating func addKey(
        _ operation: RowOperation,
        _ key: [UInt8],
        table: Int32,
        window: Window,
        at time: Timestamp
    ) {
        key.withUnsafeBytes { bytes in
            batch.addKeyOperation(operation, key: bytes, table: table, windowStart: window.start, at: time)
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
        guard transaction.hasData || transaction.sawHeartbeat else {
            // A capture rule or a new shape alone moves no stream time, but the checkpoint
            // must record it.
            if transaction.announcedRule || transaction.changedShape {
                pendingLSN = commit.endLSN
                processedLSN = max(processedLSN, commit.endLSN)
            }
            return
        }
        if transaction.sawHeartbeat {
            lastHeartbeat = max(lastHeartbeat ?? transaction.commitTime, transaction.commitTime)
        }
        let reason: CloseReason = !transaction.hasData && transaction.sawHeartbeat ? .heartbeat : .data
        let commitTime = Timestamp(postgresMicroseconds: commit.commitTime)
        closed += engine.advance(to: commitTime).map {
            WindowClosure(window: $0, reason: reason, streamTime: commitTime)
        }
        pendingLSN = commit.endLSN
        processedLSN = max(processedLSN, commit.endLSN)
        pendingTransactions += 1
        if pendingFirstCommit == nil { pendingFirstCommit = commitTime }
    }
}
