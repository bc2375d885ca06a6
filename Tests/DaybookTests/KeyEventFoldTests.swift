import Testing
import Windowing

@testable import Daybook
@testable import DaybookCore

/// What a closed day says about one key: changed columns, filled TOAST values, truncation.
struct KeyEventFoldTests {
    private typealias Event = KeyEventFold.Event
    private typealias Change = KeyEventFold.Change

    private func update(_ row: KeyEventFold.Image, unchanged: [String] = []) -> Event {
        Event(operation: .update, newRow: row, unchanged: unchanged)
    }

    @Test func aCreatedRowListsEveryColumnWithNoBefore() {
        let fold = KeyEventFold(
            events: [
                Event(operation: .insert, newRow: ["id": "7", "status": "new"]),
                update(["id": "7", "status": "paid"]), update(["id": "7", "status": "shipped"]),
            ],
            previous: .none,
            maxEvents: 10
        )
        #expect(fold.before == .none)
        #expect(
            fold.changed == [
                "id": Change(before: nil, after: .some("7")), "status": Change(before: nil, after: .some("shipped")),
            ]
        )
        #expect(fold.dropped.isEmpty && fold.filled.isEmpty)
    }

    @Test func withoutABeforeImageOnlyColumnsSeenChangingAreListed() {
        let fold = KeyEventFold(
            events: [
                update(["id": "42", "balance": "250", "name": "x"]), update(["id": "42", "balance": "0", "name": "x"]),
            ],
            previous: .none,
            maxEvents: 10
        )
        #expect(fold.before == .unknown)
        #expect(fold.changed == ["balance": Change(before: nil, after: .some("0"))])
    }

    @Test func aWholeOldRowOrAnEarlierImageGivesTheBefore() {
        let full = KeyEventFold(
            events: [
                Event(
                    operation: .update,
                    newRow: ["id": "42", "balance": "250"],
                    oldRow: ["id": "42", "balance": "100"]
                )
            ],
            previous: .none,
            maxEvents: 10
        )
        #expect(full.before == .known)
        #expect(full.changed == ["balance": Change(before: .some("100"), after: .some("250"))])

        let earlier = KeyEventFold(
            events: [update(["id": "42", "balance": "250", "note": nil])],
            previous: .image(["id": "42", "balance": "100", "note": "n"]),
            maxEvents: 10
        )
        #expect(earlier.before == .known)
        #expect(
            earlier.changed == [
                "balance": Change(before: .some("100"), after: .some("250")),
                "note": Change(before: .some("n"), after: .some(nil)),
            ]
        )
        // The earlier event deleted the row: there was none before the day.
        let deletedBefore = KeyEventFold(events: [update(["id": "42"])], previous: .image(nil), maxEvents: 10)
        #expect(deletedBefore.before == .none)
    }

    @Test func aDeletedRowHasNoAfter() {
        let fold = KeyEventFold(
            events: [
                Event(operation: .update, newRow: ["id": "1", "v": "2"], oldRow: ["id": "1", "v": "1"]),
                Event(operation: .delete, oldRow: ["id": "1", "v": "2"]),
            ],
            previous: .none,
            maxEvents: 10
        )
        #expect(
            fold.changed == ["id": Change(before: .some("1"), after: nil), "v": Change(before: .some("1"), after: nil)]
        )
    }

    @Test func unchangedToastIsFilledFromTheImageBeforeItOrStaysUnknown() {
        let fold = KeyEventFold(
            events: [
                update(["id": "1", "title": "a"], unchanged: ["body"]),
                Event(operation: .insert, newRow: ["id": "1", "title": "b", "body": "long"]),
                update(["id": "1", "title": "c"], unchanged: ["body"]),
                update(["id": "1", "title": "d"], unchanged: ["body"]),
            ],
            previous: .none,
            maxEvents: 10
        )
        #expect(
            fold.filled == [
                .init(index: 2, newRow: ["id": "1", "title": "c", "body": "long"], unchanged: []),
                .init(index: 3, newRow: ["id": "1", "title": "d", "body": "long"], unchanged: []),
            ]
        )
        // The first update's body is unknown: it takes no part in the comparison.
        #expect(fold.changed["body"] == nil)
        #expect(fold.changed["title"] == Change(before: nil, after: .some("d")))
    }

    @Test func aHotKeyKeepsItsFirstEventsAndItsLast() {
        let events = (0..<10).map { update(["id": "1", "n": "\($0)"]) }
        let fold = KeyEventFold(events: events, previous: .image(["id": "1", "n": "start"]), maxEvents: 4)
        #expect(fold.dropped == 3..<9)
        #expect(fold.changed["n"] == Change(before: .some("start"), after: .some("9")))
        #expect(KeyEventFold(events: events, previous: .none, maxEvents: 10).dropped.isEmpty)
    }

    @Test func aMillionEventKeyFoldsOneEventAtATime() {
        var fold = KeyEventFold(
            first: Event(operation: .insert, newRow: ["id": "1", "n": "0"]),
            previous: .none,
            maxEvents: 1_000
        )
        for n in 1..<100_000 {
            fold.add(update(["id": "1", "n": "\(n)"], unchanged: n.isMultiple(of: 2) ? ["blob"] : []))
        }
        #expect(fold.eventCount == 100_000)
        #expect(fold.dropped == 999..<99_999)
        #expect(fold.changed["n"] == Change(before: nil, after: .some("99999")))
        #expect(fold.changed["blob"] == nil, "never known, so never compared")
    }

    @Test func aColumnFirstSeenLaterComparesWithTheRowsBefore() {
        // A column added mid-day: the earlier rows held it as NULL.
        let added = KeyEventFold(
            events: [update(["id": "1"]), update(["id": "1", "extra": "x"])],
            previous: .none,
            maxEvents: 10
        )
        #expect(added.changed == ["extra": Change(before: nil, after: .some("x"))])
        let addedNull = KeyEventFold(
            events: [update(["id": "1"]), update(["id": "1", "extra": nil])],
            previous: .none,
            maxEvents: 10
        )
        #expect(addedNull.changed.isEmpty)
    }
}
