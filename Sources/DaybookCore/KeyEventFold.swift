import Windowing

/// What a closed day says about one key of a `values` table, from its events in commit order:
/// the columns that changed with their values before the day's first change and after its
/// last, unchanged TOASTed values filled in, and which events to drop when a hot key has more
/// than the limit. Pure: the sink reads the events and writes the result.
///
/// It folds one event at a time and keeps only the current image and a little per column, so
/// a key changed millions of times in a day costs the same memory at close as one changed once.
package struct KeyEventFold: Sendable {
    /// A row image: column to PostgreSQL text value (nil for NULL). A column missing from it
    /// was not captured, or is one of the event's `unchanged` columns.
    package typealias Image = [String: String?]

    /// One stored event, as read back at close.
    package struct Event: Sendable, Equatable {
        package var operation: RowOperation
        package var newRow: Image?
        package var oldRow: Image?
        /// Columns whose unchanged TOASTed value the stream did not send.
        package var unchanged: [String] = []

        package init(operation: RowOperation, newRow: Image? = nil, oldRow: Image? = nil, unchanged: [String] = []) {
            self.operation = operation
            self.newRow = newRow
            self.oldRow = oldRow
            self.unchanged = unchanged
        }
    }

    /// The key's image just before the day, when the sink has one from an earlier event.
    package enum Previous: Sendable, Equatable {
        /// No earlier event of this key in the sink.
        case none
        /// The latest earlier event's image after it (nil: that event deleted the row).
        case image(Image?)
    }

    /// What is known of the row before the day's first change.
    package enum Before: String, Sendable {
        /// Known: the old row (identity FULL) or the key's previous image in the sink.
        case known
        /// The row did not exist (the day began with an INSERT, or the previous event was a DELETE).
        case none
        /// Not known: an UPDATE or DELETE under identity DEFAULT with no earlier image.
        case unknown
    }

    /// One changed column: its value before the day (absent when there was no row or it is
    /// unknown) and after it (absent when the row is gone at the end).
    package struct Change: Sendable, Equatable {
        package var before: String??
        package var after: String??
    }

    /// An event whose unknown columns were filled from the images before it.
    package struct Filled: Sendable, Equatable {
        package var index: Int
        package var newRow: Image
        package var unchanged: [String]
    }

    /// A column's value in one state: `.some(value)` while a row exists (NULL, or a column the
    /// row does not carry, is `.some(nil)`), nil when there is no row.
    private typealias Value = String??

    /// Per column: the first value seen and whether any other value followed.
    private struct ColumnTrack: Sendable {
        var first: Value
        var varied = false
    }

    package private(set) var before: Before
    private let beforeImage: Image?
    private let maxEvents: Int
    /// The image after the events so far (nil: no row), with its still unknown columns.
    private var image: Image?
    private var unknown: Set<String> = []
    private var columns: [String: ColumnTrack] = [:]
    /// Which kinds of state came before (for a column first seen later).
    private var sawRow = false
    private var sawNoRow = false
    /// Columns unknown in some state so far: a row without them then says nothing of them.
    private var everUnknown: Set<String> = []
    package private(set) var eventCount = 0
    /// Columns stored in another form during the day: their value before the day is in the
    /// earlier form, so `changed` leaves it out rather than set it beside one in the later form.
    private var formChangedColumns: Set<String> = []

    /// The columns of the image after the events so far (to tell which a rule change touches).
    package var imageColumns: [String] { image.map { Array($0.keys) } ?? [] }
    /// Filled events among those kept; the last event's fill waits until the end, since only
    /// then is it known whether it is kept as the last or dropped from the middle.
    private var keptFills: [Filled] = []
    private var pendingFill: Filled?

    /// Starts a key's fold from its first event of the day. `unknownInPrevious` names the
    /// columns of `previous` stored in another form than the day's events (a capture rule
    /// changed in between, ``CaptureRule/columnsChangingForm(_:from:to:)``): they are taken as
    /// unknown, so neither compared with the day's values nor copied into its events.
    package init(first: Event, previous: Previous, unknownInPrevious: Set<String> = [], maxEvents: Int) {
        self.maxEvents = max(maxEvents, 2)
        var image: Image?
        var unknown: Set<String> = []
        if first.operation == .insert {
            before = .none
        } else if let old = first.oldRow {
            before = .known
            image = old
        } else if case .image(let previousImage) = previous {
            before = previousImage == nil ? .none : .known
            image = previousImage?.filter { !unknownInPrevious.contains($0.key) }
            if previousImage != nil { unknown = unknownInPrevious }
        } else {
            before = .unknown
        }
        beforeImage = image
        self.image = image
        self.unknown = unknown
        if before != .unknown { record(image, unknown: unknown) }
        add(first)
    }

    /// Folds in the next event of the key, in commit order. `formChanged` names the columns
    /// the event stores in another form than the one before it (a capture rule changed
    /// between them): the image's values of those are not compared with the event's, nor
    /// copied into it; a column that had changed already still counts as changed.
    package mutating func add(_ event: Event, formChanged: Set<String>) {
        formChangedColumns.formUnion(formChanged)
        for column in formChanged {
            image?.removeValue(forKey: column)
            unknown.insert(column)
            everUnknown.insert(column)
            if columns[column]?.varied == false { columns[column] = nil }
        }
        add(event)
    }

    /// Folds in the next event of the key, in commit order.
    package mutating func add(_ event: Event) {
        let index = eventCount
        eventCount += 1
        if let pendingFill, pendingFill.index < maxEvents - 1 { keptFills.append(pendingFill) }
        pendingFill = nil
        guard event.operation != .delete else {
            image = nil
            unknown = []
            record(nil, unknown: [])
            return
        }
        var row = event.newRow ?? [:]
        var stillUnknown: [String] = []
        for column in event.unchanged {
            if let known = image?[column], !unknown.contains(column) {
                row[column] = known
            } else {
                stillUnknown.append(column)
            }
        }
        if stillUnknown.count != event.unchanged.count {
            pendingFill = Filled(index: index, newRow: row, unchanged: stillUnknown)
        }
        image = row
        unknown = Set(stillUnknown)
        record(row, unknown: unknown)
    }

    /// Compares one state with what came before, column by column.
    private mutating func record(_ state: Image?, unknown: Set<String>) {
        func value(_ column: String) -> Value { state.map { $0[column] ?? nil } }
        for (column, var track) in columns where !unknown.contains(column) && !track.varied {
            if value(column) != track.first {
                track.varied = true
                columns[column] = track
            }
        }
        for column in state.map({ Array($0.keys) }) ?? [] where columns[column] == nil && !unknown.contains(column) {
            // First seen now: before, there was no row, or a row without it (NULL), unless
            // the column was unknown there.
            let rowBefore = sawRow && !everUnknown.contains(column)
            var track = ColumnTrack(first: sawNoRow ? .none : rowBefore ? .some(nil) : value(column))
            track.varied = (sawNoRow && rowBefore) || track.first != value(column)
            columns[column] = track
        }
        everUnknown.formUnion(unknown)
        if state == nil { sawNoRow = true } else { sawRow = true }
    }

    /// The columns that changed, with their values before and after the day.
    package var changed: [String: Change] {
        var result: [String: Change] = [:]
        for (column, track) in columns where track.varied {
            result[column] = Change(
                before: before == .known && !formChangedColumns.contains(column) ? beforeImage?[column] : nil,
                after: unknown.contains(column) ? nil : image?[column]
            )
        }
        return result
    }

    /// The events to drop: the first `maxEvents - 1` and the last are kept, so a reader sees
    /// how the day began and how it ended.
    package var dropped: Range<Int> {
        eventCount > maxEvents ? (maxEvents - 1)..<(eventCount - 1) : 0..<0
    }

    /// The kept events whose unknown values were filled.
    package var filled: [Filled] {
        keptFills + (pendingFill.map { [$0] } ?? [])
    }

    /// Folds a whole list of events at once (at least one).
    package init(events: [Event], previous: Previous, unknownInPrevious: Set<String> = [], maxEvents: Int) {
        self.init(first: events[0], previous: previous, unknownInPrevious: unknownInPrevious, maxEvents: maxEvents)
        for event in events.dropFirst() { add(event) }
    }
}
