import Windowing

/// What a closed day says about one key of a `values` table, from its events in commit order:
/// the columns that changed with their values before the day's first change and after its
/// last, unchanged TOASTed values filled in, and which events to keep when a hot key has more
/// than the limit. Pure: the sink reads the events and writes the result.
struct KeyEventFold: Sendable {
    /// A row image: column to PostgreSQL text value (nil for NULL). A column missing from it
    /// was not captured, or is one of the event's `unchanged` columns.
    typealias Image = [String: String?]

    /// One stored event, as read back at close.
    struct Event: Sendable, Equatable {
        var operation: RowOperation
        var newRow: Image?
        var oldRow: Image?
        /// Columns whose unchanged TOASTed value the stream did not send.
        var unchanged: [String] = []
    }

    /// The key's image just before the day, when the sink has one from an earlier event.
    enum Previous: Sendable, Equatable {
        /// No earlier event of this key in the sink.
        case none
        /// The earliest earlier event's image after it (nil: that event deleted the row).
        case image(Image?)
    }

    /// What is known of the row before the day's first change.
    enum Before: String, Sendable {
        /// Known: the old row (identity FULL) or the key's previous image in the sink.
        case known
        /// The row did not exist (the day began with an INSERT, or the previous event was a DELETE).
        case none
        /// Not known: an UPDATE or DELETE under identity DEFAULT with no earlier image.
        case unknown
    }

    /// One changed column: its value before the day (absent when there was no row or it is
    /// unknown) and after it (absent when the row is gone at the end).
    struct Change: Sendable, Equatable {
        var before: String??
        var after: String??
    }

    /// An event whose unknown columns were filled from the images before it.
    struct Filled: Sendable, Equatable {
        var index: Int
        var newRow: Image
        var unchanged: [String]
    }

    var before: Before
    var changed: [String: Change]
    var filled: [Filled]
    /// Indices of events to drop (past `maxEvents`): the first `maxEvents - 1` and the last
    /// are kept, so a reader sees how the day began and how it ended.
    var dropped: Range<Int>

    /// Folds one key's events (at least one, in commit order).
    init(events: [Event], previous: Previous, maxEvents: Int) {
        precondition(!events.isEmpty, "a key in a window has at least one event")
        let first = events[0]
        var image: Image?
        if first.operation == .insert {
            before = .none
        } else if let old = first.oldRow {
            before = .known
            image = old
        } else if case .image(let previousImage) = previous {
            before = previousImage == nil ? .none : .known
            image = previousImage
        } else {
            before = .unknown
        }
        let beforeImage = image

        // The image after each event, with the columns still unknown in it.
        var states: [(image: Image?, unknown: Set<String>)] = []
        var filled: [Filled] = []
        for (index, event) in events.enumerated() {
            guard event.operation != .delete else {
                image = nil
                states.append((nil, []))
                continue
            }
            var row = event.newRow ?? [:]
            var stillUnknown: [String] = []
            for column in event.unchanged {
                if let known = image?[column] {
                    row[column] = known
                } else {
                    stillUnknown.append(column)
                }
            }
            if stillUnknown.count != event.unchanged.count {
                filled.append(Filled(index: index, newRow: row, unchanged: stillUnknown))
            }
            image = row
            states.append((row, Set(stillUnknown)))
        }
        self.filled = filled

        var columns = Set(states.flatMap { state in (state.image.map { Array($0.keys) } ?? []) + Array(state.unknown) })
        if let beforeImage { columns.formUnion(beforeImage.keys) }
        var changed: [String: Change] = [:]
        for column in columns {
            // Each state's value: .some(value) for a row holding it, nil for no row; unknown
            // values take no part in the comparison.
            var values: [String??] = []
            if before != .unknown { values.append(beforeImage.map { $0[column] ?? nil }) }
            for state in states where !state.unknown.contains(column) {
                values.append(state.image.map { $0[column] ?? nil })
            }
            guard let firstValue = values.first, values.contains(where: { $0 != firstValue }) else { continue }
            let last = states.last!
            changed[column] = Change(
                before: before == .known ? beforeImage?[column] : nil,
                after: last.unknown.contains(column) ? nil : last.image?[column])
        }
        self.changed = changed

        let limit = max(maxEvents, 1)
        dropped = events.count > limit ? (limit - 1)..<(events.count - 1) : 0..<0
    }
}
