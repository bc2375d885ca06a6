import Windowing

/// Attributed changes per window, table and ``Attribution``, as one checkpoint writes them.
///
/// Only attributed changes are counted (a hash lookup per change, none for a workload without
/// attribution): the unattributed ones of a table and window are its total minus these.
public struct AttributionTally: Sendable, Equatable {
    public struct Entry: Hashable, Sendable {
        public var windowStart: Timestamp
        /// Index into the batch's table names.
        public var table: Int32
        /// Index into ``attributions``.
        public var attribution: Int32
    }

    public private(set) var attributions: [Attribution] = []
    private var indices: [Attribution: Int32] = [:]
    public private(set) var counts: [Entry: Int] = [:]

    public init() {}

    public var isEmpty: Bool { counts.isEmpty }

    /// The index of `attribution`, interned.
    public mutating func index(of attribution: Attribution) -> Int32 {
        if let index = indices[attribution] { return index }
        let index = Int32(attributions.count)
        attributions.append(attribution)
        indices[attribution] = index
        return index
    }

    public mutating func count(_ attribution: Int32, table: Int32, windowStart: Timestamp) {
        counts[Entry(windowStart: windowStart, table: table, attribution: attribution), default: 0] += 1
    }
}
