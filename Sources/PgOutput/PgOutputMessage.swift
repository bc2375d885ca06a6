import WAL

/// One decoded pgoutput message (protocol version 1, or 2 with streamed transactions): the
/// payload of an XLogData frame.
///
/// The cases mirror PostgreSQL's `proto.c`. Values are plain data so that the decoder can be
/// tested with bytes alone and the rest of the pipeline with values alone.
public enum PgOutputMessage: Hashable, Sendable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(TypeInfo)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    case message(LogicalMessage)
    /// A chunk of an in-progress transaction begins (protocol 2, `streaming 'on'`).
    case streamStart(StreamStart)
    /// The chunk ends; other transactions, streamed or not, may follow before the next one.
    case streamStop
    /// A streamed transaction committed: only now are its window and its place known.
    case streamCommit(StreamCommit)
    /// A streamed transaction, or one of its subtransactions, rolled back.
    case streamAbort(StreamAbort)
}

/// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's own epoch.
public typealias PostgresMicroseconds = Int64

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01).
public let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000

/// Start of a committed transaction. pgoutput sends a transaction only after it committed,
/// so the commit LSN and time are known up front.
public struct Begin: Hashable, Sendable {
    /// LSN of the commit record.
    public var finalLSN: LSN
    public var commitTime: PostgresMicroseconds
    public var xid: UInt32
    public init(finalLSN: LSN, commitTime: PostgresMicroseconds, xid: UInt32) {
        self.finalLSN = finalLSN
        self.commitTime = commitTime
        self.xid = xid
    }
}

/// End of a transaction. `endLSN` is the resume point a checkpoint stores.
public struct Commit: Hashable, Sendable {
    public var flags: UInt8
    public var commitLSN: LSN
    public var endLSN: LSN
    public var commitTime: PostgresMicroseconds
    public init(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTime: PostgresMicroseconds) {
        self.flags = flags
        self.commitLSN = commitLSN
        self.endLSN = endLSN
        self.commitTime = commitTime
    }
}

/// The origin of a transaction replayed from another node.
public struct Origin: Hashable, Sendable {
    public var commitLSN: LSN
    public var name: String
    public init(commitLSN: LSN, name: String) {
        self.commitLSN = commitLSN
        self.name = name
    }
}

/// A table's shape as the stream sees it. Sent before its first change and again after any
/// schema or replica identity change; the newest one replaces the cached one.
public struct Relation: Hashable, Sendable {
    public var oid: UInt32
    /// Schema name; pgoutput sends an empty string for `pg_catalog`.
    public var namespace: String
    public var name: String
    public var replicaIdentity: ReplicaIdentity
    public var columns: [Column]

    public init(oid: UInt32, namespace: String, name: String, replicaIdentity: ReplicaIdentity, columns: [Column]) {
        self.oid = oid
        self.namespace = namespace
        self.name = name
        self.replicaIdentity = replicaIdentity
        self.columns = columns
    }

    /// `schema.name`, as reports show it.
    public var qualifiedName: String { "\(namespace.isEmpty ? "pg_catalog" : namespace).\(name)" }

    public struct Column: Hashable, Sendable {
        /// Bit 0 set: the column is part of the replica identity (the key).
        public var flags: UInt8
        public var name: String
        public var typeOID: UInt32
        public var typeModifier: Int32
        public var isKey: Bool { flags & 1 == 1 }
        public init(flags: UInt8, name: String, typeOID: UInt32, typeModifier: Int32) {
            self.flags = flags
            self.name = name
            self.typeOID = typeOID
            self.typeModifier = typeModifier
        }
    }
}

/// `pg_class.relreplident`: which old values updates and deletes carry.
public struct ReplicaIdentity: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let `default` = ReplicaIdentity(rawValue: UInt8(ascii: "d"))
    public static let nothing = ReplicaIdentity(rawValue: UInt8(ascii: "n"))
    public static let full = ReplicaIdentity(rawValue: UInt8(ascii: "f"))
    public static let index = ReplicaIdentity(rawValue: UInt8(ascii: "i"))
    public var description: String {
        switch self {
        case .default: "default"
        case .nothing: "nothing"
        case .full: "full"
        case .index: "index"
        default: "unknown(\(rawValue))"
        }
    }
}

/// A non-built-in type's name, sent ahead of the Relation that uses it.
public struct TypeInfo: Hashable, Sendable {
    public var oid: UInt32
    public var namespace: String
    public var name: String
    public init(oid: UInt32, namespace: String, name: String) {
        self.oid = oid
        self.namespace = namespace
        self.name = name
    }
}

public struct Insert: Hashable, Sendable {
    public var relationOID: UInt32
    public var new: TupleData
    public init(relationOID: UInt32, new: TupleData) {
        self.relationOID = relationOID
        self.new = new
    }
}

/// Which old values an Update or Delete carries.
public enum OldTupleKind: Hashable, Sendable {
    /// `K`: only the replica identity columns (others are NULL).
    case key
    /// `O`: the whole old row (replica identity FULL).
    case full
}

public struct Update: Hashable, Sendable {
    public var relationOID: UInt32
    /// Present when the key changed (`K`) or under replica identity FULL (`O`).
    public var oldKind: OldTupleKind?
    public var old: TupleData?
    public var new: TupleData
    public init(relationOID: UInt32, oldKind: OldTupleKind?, old: TupleData?, new: TupleData) {
        self.relationOID = relationOID
        self.oldKind = oldKind
        self.old = old
        self.new = new
    }
}

public struct Delete: Hashable, Sendable {
    public var relationOID: UInt32
    public var oldKind: OldTupleKind
    public var old: TupleData
    public init(relationOID: UInt32, oldKind: OldTupleKind, old: TupleData) {
        self.relationOID = relationOID
        self.oldKind = oldKind
        self.old = old
    }
}

public struct Truncate: Hashable, Sendable {
    /// Bit 0: CASCADE, bit 1: RESTART IDENTITY.
    public var options: UInt8
    public var relationOIDs: [UInt32]
    public var cascade: Bool { options & 1 != 0 }
    public var restartIdentity: Bool { options & 2 != 0 }
    public init(options: UInt8, relationOIDs: [UInt32]) {
        self.options = options
        self.relationOIDs = relationOIDs
    }
}

/// A `pg_logical_emit_message` record (only with `messages 'true'`).
public struct LogicalMessage: Hashable, Sendable {
    public var transactional: Bool
    public var lsn: LSN
    public var prefix: String
    public var content: ArraySlice<UInt8>
    public init(transactional: Bool, lsn: LSN, prefix: String, content: ArraySlice<UInt8>) {
        self.transactional = transactional
        self.lsn = lsn
        self.prefix = prefix
        self.content = content
    }
}

/// One row image: a value per column of the Relation, in its column order.
public struct TupleData: Hashable, Sendable {
    public var columns: [TupleColumn]
    public init(columns: [TupleColumn]) { self.columns = columns }
}

/// One column's value in a row image. Text and binary values share the message's storage.
public enum TupleColumn: Hashable, Sendable {
    case null
    /// `u`: an unchanged out-of-line (TOASTed) value whose content was not sent.
    case unchangedToast
    case text(ArraySlice<UInt8>)
    case binary(ArraySlice<UInt8>)

    /// The value as text, or nil for NULL, unchanged TOAST and binary values.
    public var text: String? {
        if case .text(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }
}

/// Stream Start: the messages up to the next Stream Stop belong to transaction `xid`, still in
/// progress. Chunks of several transactions interleave with each other and with ordinary ones.
public struct StreamStart: Hashable, Sendable {
    public var xid: UInt32
    /// Whether this is the transaction's first chunk (again after a reconnect: the server
    /// streams an unfinished transaction from its start).
    public var isFirstSegment: Bool
    public init(xid: UInt32, isFirstSegment: Bool) {
        self.xid = xid
        self.isFirstSegment = isFirstSegment
    }
}

/// Stream Commit: transaction `xid`, streamed before, committed; `commit` is what a Commit
/// message would carry (its `endLSN` is the resume point, its time the event time).
public struct StreamCommit: Hashable, Sendable {
    public var xid: UInt32
    public var commit: Commit
    public init(xid: UInt32, commit: Commit) {
        self.xid = xid
        self.commit = commit
    }
}

/// Stream Abort: the streamed transaction `xid` rolled back whole (`subxid == xid`), or only
/// its subtransaction `subxid` did.
public struct StreamAbort: Hashable, Sendable {
    public var xid: UInt32
    public var subxid: UInt32
    /// Protocol 4 with parallel streaming only.
    public var abortLSN: LSN?
    public var abortTime: PostgresMicroseconds?
    public init(xid: UInt32, subxid: UInt32, abortLSN: LSN? = nil, abortTime: PostgresMicroseconds? = nil) {
        self.xid = xid
        self.subxid = subxid
        self.abortLSN = abortLSN
        self.abortTime = abortTime
    }

    /// Whether the whole transaction rolled back, not only a subtransaction.
    public var isWholeTransaction: Bool { xid == subxid }
}
