import Testing
import WAL
import Windowing

@testable import Daybook
@testable import DaybookCore

/// A key's day when a capture rule changed between its stored image and its events, or between
/// two of its events: values stored in another form are neither compared nor copied, so a
/// plain value kept before a `hash` or `mask` rule never reaches a later event, and a rotated
/// key does not make every column look changed.
struct RuleChangeFoldTests {
    private typealias Event = KeyEventFold.Event
    private typealias Change = KeyEventFold.Change

    private func rule(since: LSN, hash: [String] = [], mask: [String] = [], keyID: String? = nil) -> CaptureRule {
        var rule = CaptureRule(slot: "s", table: "app.t", level: .values, excludedColumns: ["note"], sinceLSN: since)
        rule.hashedColumns = hash
        rule.maskedColumns = mask
        rule.keyID = keyID
        return rule
    }

    @Test func storedFormsFollowTheRule() {
        let plain = rule(since: 10)
        let hashed = rule(since: 20, hash: ["email"], mask: ["tax"], keyID: "k1")
        let rotated = rule(since: 30, hash: ["email"], mask: ["tax"], keyID: "k2")
        #expect(hashed.storedForm(of: "email") == .hash(keyID: "k1"))
        #expect(hashed.storedForm(of: "tax") == .mask(keyID: "k1"))
        #expect(hashed.storedForm(of: "note") == .notKept)
        #expect(hashed.storedForm(of: "city") == .value)
        let rules = [plain, hashed, rotated]
        #expect(CaptureRule.rule(at: 10, in: rules) == nil, "a rule applies to commits after its message")
        #expect(CaptureRule.rule(at: 11, in: rules) == plain)
        #expect(CaptureRule.rule(at: 25, in: rules) == hashed)
        let columns = ["id", "email", "tax", "city", "note"]
        #expect(CaptureRule.columnsChangingForm(columns, from: plain, to: hashed) == ["email", "tax"])
        #expect(CaptureRule.columnsChangingForm(columns, from: hashed, to: rotated) == ["email", "tax"])
        #expect(CaptureRule.columnsChangingForm(columns, from: hashed, to: hashed).isEmpty)
        var narrowed = rule(since: 40)
        narrowed.excludedColumns = ["note", "city"]
        #expect(CaptureRule.columnsChangingForm(columns, from: plain, to: narrowed) == ["city"])
    }

    @Test func aPlainImageBeforeAHashRuleIsNeitherComparedNorCopied() {
        // The day's first event leaves the hashed column's TOASTed value out (unchanged): the
        // plain value of the image before the rule must not fill it.
        let fold = KeyEventFold(
            events: [
                Event(operation: .update, newRow: ["id": "1", "city": "Paris"], unchanged: ["email"]),
                Event(operation: .update, newRow: ["id": "1", "email": "hmac:aa", "city": "Paris"]),
            ],
            previous: .image(["id": "1", "email": "plain@example.org", "city": "Berlin"]),
            unknownInPrevious: ["email"],
            maxEvents: 10
        )
        #expect(fold.before == .known)
        #expect(fold.filled.isEmpty, "nothing is filled from the plain image: \(fold.filled)")
        #expect(fold.changed == ["city": Change(before: .some("Berlin"), after: .some("Paris"))])
    }

    @Test func aRuleChangeDuringTheDayRestartsTheComparisonOfTheColumnsItChanged() {
        var fold = KeyEventFold(
            first: Event(operation: .update, newRow: ["id": "1", "email": "a@example.org", "tax": "T1"]),
            previous: .image(["id": "1", "email": "a@example.org", "tax": "T0"]),
            maxEvents: 10
        )
        // From here on the email is hashed: the same value in another form is no change; a value
        // that changed before the rule still counts.
        fold.add(
            Event(operation: .update, newRow: ["id": "1", "email": "hmac:aa", "tax": "\u{E000}mask:k1:00"]),
            formChanged: ["email", "tax"]
        )
        fold.add(Event(operation: .update, newRow: ["id": "1", "email": "hmac:aa", "tax": "\u{E000}mask:k1:00"]))
        #expect(Set(fold.changed.keys) == ["tax"])
        #expect(fold.changed["tax"]?.before == nil, "the value before the day is in the earlier form: left out")
        fold.add(Event(operation: .update, newRow: ["id": "1", "email": "hmac:bb", "tax": "\u{E000}mask:k1:00"]))
        #expect(Set(fold.changed.keys) == ["tax", "email"])
    }

    @Test func aColumnKeptNowAndNotBeforeIsNoChangeFromNull() {
        let earlier = rule(since: 10)
        var later = rule(since: 20)
        later.excludedColumns = []
        let first = Event(operation: .update, newRow: ["id": "1", "note": "n", "city": "Oslo"])
        let columns = ClosingValueFold.namedColumns(["id", "city"], first, earlier, later)
        let unknown = CaptureRule.columnsChangingForm(columns, from: earlier, to: later)
        #expect(unknown == ["note"])
        let fold = KeyEventFold(
            first: first,
            previous: .image(["id": "1", "city": "Oslo"]),
            unknownInPrevious: unknown,
            maxEvents: 10
        )
        #expect(fold.changed.isEmpty, "\(fold.changed)")
    }

    @Test func tagsStoredBeforeTheKeyIdWasInThemReadAsTheRulesKey() {
        let old = MaskedValue.tagPrefix + String(repeating: "ab", count: 16)
        let upgraded = ClosingValueFold.upgradingTags(["tax": old, "city": "Oslo", "none": nil], keyID: "k1")
        #expect(upgraded?["tax"] == MaskedValue.tagPrefix + "k1:" + String(repeating: "ab", count: 16))
        #expect(upgraded?["city"] == "Oslo" && upgraded?["none"] == .some(nil))
        let current = MaskedValue.tagPrefix + "k1:" + String(repeating: "cd", count: 16)
        #expect(ClosingValueFold.upgradingTags(["tax": current], keyID: "k2")?["tax"] == current)
    }
}
