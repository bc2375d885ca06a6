import DaybookCore
import PostgresReplication
import WAL

/// Where backlog mode's ranges come from: read ahead on a temporary copy of the slot while
/// the previous one is processed (``AheadDecoder``), or, when the server cannot give what that
/// takes, read in turn from the slot itself, each after the previous one is in the sink.
final class RangeSource {
    private enum Kind {
        case ahead(AheadDecoder)
        /// `onCatalog`: the reads share the session's catalog connection (the server gave no
        /// other), which a read abandoned mid-way leaves unusable.
        case inTurn(SQLDecodingReader, onCatalog: Bool)
    }

    private let kind: Kind
    /// The range asked for and not yet read, when reading in turn.
    private var pendingInTurn: LSN?
    /// Whether the catalog's connection was left mid-COPY by a read given up for a stop.
    private(set) var catalogUnusable = false

    private init(_ kind: Kind) { self.kind = kind }

    static func ahead(_ decoder: AheadDecoder) -> RangeSource { RangeSource(.ahead(decoder)) }

    static func inTurn(_ reader: SQLDecodingReader, onCatalog: Bool) -> RangeSource {
        RangeSource(.inTurn(reader, onCatalog: onCatalog))
    }

    /// Whether ranges are read ahead of the sink (on a copy of the slot): then the slot is
    /// not where the next read starts, and need not be advanced after every range.
    var readsAhead: Bool {
        if case .ahead = kind { return true }
        return false
    }

    /// Whether another range may be asked for now.
    var hasRoom: Bool {
        switch kind {
        case .ahead(let decoder): decoder.hasRoom
        case .inTurn: pendingInTurn == nil
        }
    }

    /// Whether a range was asked for and not yet taken.
    var hasPending: Bool {
        switch kind {
        case .ahead(let decoder): decoder.pendingCount > 0
        case .inTurn: pendingInTurn != nil
        }
    }

    /// Asks for the range up to `end`, after the pending ones.
    func submit(upTo end: LSN) throws {
        switch kind {
        case .ahead(let decoder): try decoder.submit(upTo: end)
        case .inTurn: pendingInTurn = end
        }
    }

    /// The oldest range asked for, once read: ``RangeRead/stopped`` if `shouldStop` says so
    /// first. `alive` is called about once a second while the server decodes.
    func next(shouldStop: () -> Bool, alive: () -> Void) throws -> RangeRead {
        switch kind {
        case .ahead(let decoder):
            struct Stopped: Error {}
            do {
                return try decoder.next(waiting: {
                    alive()
                    if shouldStop() { throw Stopped() }
                })
            } catch is Stopped {
                return .stopped
            }
        case .inTurn(let reader, let onCatalog):
            guard let end = pendingInTurn else { preconditionFailure("next() without a pending range") }
            pendingInTurn = nil
            let read = try reader.collect(upTo: end, shouldStop: shouldStop, alive: alive)
            if case .stopped = read, onCatalog { catalogUnusable = true }
            return read
        }
    }

    /// Stops reading ahead (a read running ends within a second) and drops the copy.
    func close() {
        if case .ahead(let decoder) = kind { decoder.close() }
    }
}
