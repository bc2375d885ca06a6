import Foundation
import PgOutput
import WAL
import Windowing

/// A table's capture level, as set by `daybook capture` (or `setup --capture`), from a point
/// in the stream on.
///
/// A rule takes effect at a clean point: it applies to the source transactions whose commit
/// record lies after `sinceLSN`, the position of the `daybook.capture` logical message that
/// announced it. Because the message travels in the replication stream itself, every run
/// (live, after a restart, or replaying after a crash) switches at exactly the same
/// transaction, and a day captured at two levels says so.
public struct CaptureRule: Hashable, Sendable {
    public var slot: String
    /// `schema.name`.
    public var table: String
    public var level: CaptureLevel
    /// At `values`: capture only these columns (and the key); nil for all of them.
    public var columns: [String]?
    /// At `values`: never capture these (a key column cannot be excluded).
    public var excludedColumns: [String]
    /// At `values`: store a keyed hash of these columns' values (``ValueKey``), never the values.
    public var hashedColumns: [String] = []
    /// At `values`: store a fixed marker for these columns' values (``MaskedValue``).
    public var maskedColumns: [String] = []
    /// The file holding the hash key, and the key's ``ValueKey/id`` when the rule was set
    /// (a file that holds another key by now is refused, never used).
    public var keyFile: String?
    public var keyID: String?
    /// The rule applies to transactions committed after this LSN.
    public var sinceLSN: LSN

    public init(
        slot: String,
        table: String,
        level: CaptureLevel,
        columns: [String]? = nil,
        excludedColumns: [String] = [],
        sinceLSN: LSN = 0
    ) {
        self.slot = slot
        self.table = table
        self.level = level
        self.columns = columns
        self.excludedColumns = excludedColumns
        self.sinceLSN = sinceLSN
    }

    /// Prefix of the logical message that carries a rule through the stream (not transactional
    /// since the privacy rules; transactional ones of earlier releases are still read).
    public static let messagePrefix = "daybook.capture"

    private struct Payload: Codable {
        var slot: String
        var table: String
        var level: String
        var columns: [String]?
        var exclude: [String]
        var hash: [String]?
        var mask: [String]?
        var keyFile: String?
        var keyId: String?
    }

    /// The message content announcing this rule (its LSN is the message's own).
    public var messageContent: String {
        let payload = Payload(
            slot: slot,
            table: table,
            level: level.rawValue,
            columns: columns,
            exclude: excludedColumns,
            hash: hashedColumns.isEmpty ? nil : hashedColumns,
            mask: maskedColumns.isEmpty ? nil : maskedColumns,
            keyFile: keyFile,
            keyId: keyID
        )
        return DaybookJSON.text(payload)
    }

    /// The rule a `daybook.capture` message announces, or nil when its content is not one
    /// (another program's message under the same prefix is ignored, never fatal).
    public init?(message: LogicalMessage) {
        guard message.prefix == Self.messagePrefix,
            let payload = DaybookJSON.decode(Payload.self, from: Data(message.content)),
            let level = CaptureLevel(rawValue: payload.level)
        else { return nil }
        self.init(
            slot: payload.slot,
            table: payload.table,
            level: level,
            columns: payload.columns,
            excludedColumns: payload.exclude,
            sinceLSN: message.lsn
        )
        hashedColumns = payload.hash ?? []
        maskedColumns = payload.mask ?? []
        keyFile = payload.keyFile
        keyID = payload.keyId
    }
}

/// Every capture rule of one slot, by table: which level applies to a transaction.
struct CaptureRules: Sendable {
    private var byTable: [String: [CaptureRule]] = [:]

    init(_ rules: [CaptureRule] = []) {
        for rule in rules { add(rule) }
    }

    /// Adds a rule; adding the same rule again (a replayed message) changes nothing.
    /// - Returns: whether the rule was new.
    @discardableResult
    mutating func add(_ rule: CaptureRule) -> Bool {
        var rules = byTable[rule.table, default: []]
        guard !rules.contains(where: { $0.sinceLSN == rule.sinceLSN }) else { return false }
        rules.append(rule)
        rules.sort { $0.sinceLSN < $1.sinceLSN }
        byTable[rule.table] = rules
        return true
    }

    /// The rules of `table`, oldest first.
    func rules(for table: String) -> [CaptureRule] { byTable[table] ?? [] }
}
