import Testing

@testable import DaybookCore

/// The digest's anomaly rule on synthetic histories: no server, only figures.
struct VolumeRuleTests {
    private let rule = VolumeRule()

    /// Daily windows of `inserts` inserts and a tenth as many deletes, weekdays cycling from
    /// Sunday.
    private func days(_ inserts: [Int]) -> [VolumeRule.Window] {
        inserts.enumerated().map { index, count in
            VolumeRule.Window(.init(inserts: count, deletes: count / 10), weekday: index % 7 + 1)
        }
    }

    /// Four weeks of a steady table: about 1,000 inserts a day, ±5%.
    private var steady: [VolumeRule.Window] {
        days((0..<28).map { 1_000 + [0, 30, -20, 45, -40, 10, -5][$0 % 7] })
    }

    private func figure(_ verdict: VolumeRule.Verdict, _ figure: VolumeRule.Figure) -> VolumeRule.FigureVerdict? {
        guard case .judged(let figures) = verdict else { return nil }
        return figures.first { $0.figure == figure }
    }

    @Test func aSteadyTableIsQuiet() throws {
        let verdict = rule.judge(.init(.init(inserts: 1_020, deletes: 102), weekday: 1), history: steady)
        #expect(!verdict.isUnusual)
        let inserts = try #require(figure(verdict, .inserts))
        #expect(inserts.expected.contains(1_000))
        #expect(inserts.basis == .weekday)
    }

    @Test func aTenfoldSpikeIsFlaggedWithItsExpectedRange() throws {
        let verdict = rule.judge(.init(.init(inserts: 1_000, deletes: 1_000), weekday: 3), history: steady)
        #expect(verdict.isUnusual)
        let deletes = try #require(figure(verdict, .deletes))
        #expect(deletes.isUnusual)
        #expect(deletes.expected.upperBound < 1_000)
        #expect(deletes.expected.contains(100))
        #expect(figure(verdict, .inserts)?.isUnusual == false)
    }

    @Test func aDropToZeroIsSilent() {
        let verdict = rule.judge(.init(.init(), weekday: 2), history: steady)
        #expect(verdict == .silent(changedIn: 28, of: 28))
        #expect(verdict.isUnusual)
    }

    @Test func aDropOfOneFigureToZeroIsUnusual() {
        let verdict = rule.judge(.init(.init(inserts: 1_000, deletes: 0), weekday: 2), history: steady)
        #expect(figure(verdict, .deletes)?.isUnusual == true)
    }

    @Test func aWeeklyPatternIsNotFlaggedOnceLearned() throws {
        // Mondays (weekday 2) carry ten times the load of other days: the month-end batch.
        let history = days((0..<28).map { $0 % 7 == 1 ? 10_000 : 1_000 })
        let monday = rule.judge(.init(.init(inserts: 10_000, deletes: 1_000), weekday: 2), history: history)
        #expect(!monday.isUnusual)
        #expect(figure(monday, .inserts)?.basis == .weekday)
        // A Monday without its peak is the news, and a Tuesday with one.
        #expect(rule.judge(.init(.init(inserts: 1_000, deletes: 100), weekday: 2), history: history).isUnusual)
        #expect(rule.judge(.init(.init(inserts: 10_000, deletes: 1_000), weekday: 3), history: history).isUnusual)
    }

    @Test func withFewerWeeksThanNeededTheWholeSpanCounts() throws {
        let history = days((0..<14).map { $0 % 7 == 1 ? 10_000 : 1_000 })
        let monday = rule.judge(.init(.init(inserts: 10_000, deletes: 1_000), weekday: 2), history: history)
        #expect(figure(monday, .inserts)?.basis == .trailing)
        #expect(monday.isUnusual)
    }

    @Test func aShortHistorySaysSo() {
        let verdict = rule.judge(.init(.init(inserts: 50_000), weekday: 1), history: Array(steady.prefix(3)))
        #expect(verdict == .notEnoughHistory(have: 3, need: 7))
        #expect(!verdict.isUnusual)
    }

    @Test func aTableChangingForTheFirstTimeIsNew() {
        #expect(rule.judge(.init(.init(inserts: 5)), history: []) == .new)
    }

    @Test func smallNumbersAgainstNothingStayQuiet() {
        let quiet = days(Array(repeating: 0, count: 28))
        // Two deletes where there are usually none: within the floor.
        let verdict = rule.judge(.init(.init(deletes: 2)), history: quiet)
        #expect(!verdict.isUnusual)
        #expect(figure(verdict, .deletes)?.expected == 0...10)
        #expect(rule.judge(.init(.init(deletes: 500)), history: quiet).isUnusual)
    }

    @Test func onlyTheTrailingSpanCounts() {
        // A year ago the table was ten times busier; the last four weeks are what is usual now.
        let history = days(Array(repeating: 10_000, count: 300) + Array(repeating: 1_000, count: 28))
        #expect(!rule.judge(.init(.init(inserts: 1_000, deletes: 100)), history: history).isUnusual)
    }

    @Test func theExpectedRangeFollowsTheModifiedZScore() {
        var rule = VolumeRule()
        rule.absoluteFloor = 0
        rule.relativeFloor = 0
        // Median 100, MAD 10: |x − 100| ≤ 3.5 · 10 / 0.6745 ≈ 51.9.
        #expect(rule.expectedRange(of: [90, 95, 100, 105, 110, 80, 120]) == 49...151)
    }
}
