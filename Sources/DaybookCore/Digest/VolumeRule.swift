/// Whether a table's figures in a closed window are unusual against its own history: the
/// morning digest's first question.
///
/// The rule is the robust one data-quality tools start from (Iglewicz and Hoaglin): the median
/// and the median absolute deviation (MAD) of the history, and a figure is unusual when its
/// modified z-score `0.6745 · (x − median) / MAD` is beyond ``threshold`` — said here as the
/// range of figures that are not, so that a reader sees why a figure was flagged. Two floors
/// keep small numbers quiet: the range is never narrower than ``absoluteFloor`` changes nor
/// ``relativeFloor`` of the median on either side (a constant history has a MAD of 0, and 2
/// deletes against a usual 0 is not news).
///
/// Weekly patterns: with daily windows, a figure is compared with the same weekday's history
/// once there are ``weekdayMinimum`` such windows (a Monday peak is then not news), else with
/// the whole trailing history. The caller passes at most ``span`` windows of history, newest
/// last; fewer than ``minimumHistory`` says so instead of guessing.
public struct VolumeRule: Sendable, Equatable {
    /// How many closed windows of history the rule looks at (the trailing span).
    public var span = 28
    /// Fewer windows of history than this: "not enough history", no verdict on figures.
    public var minimumHistory = 7
    /// Same-weekday windows needed before daily figures are compared by weekday.
    public var weekdayMinimum = 4
    /// The modified z-score beyond which a figure is unusual.
    public var threshold = 3.5
    /// The expected range reaches at least this many changes either side of the median.
    public var absoluteFloor = 10
    /// …and at least this share of the median.
    public var relativeFloor = 0.5
    /// A table that changed in at least this share of its history and not at all in the
    /// window is `silent`.
    public var silentShare = 0.75

    public init() {}

    /// One window of a table's history (or the window being judged).
    public struct Window: Sendable, Equatable {
        public var volumes: Volumes
        /// The window's weekday (1 = Sunday … 7 = Saturday, as `Calendar` counts) when windows
        /// are days, else nil: then weekdays are not compared.
        public var weekday: Int?

        public init(_ volumes: Volumes, weekday: Int? = nil) {
            self.volumes = volumes
            self.weekday = weekday
        }
    }

    /// A table's figures in one window.
    public struct Volumes: Sendable, Equatable {
        public var inserts: Int
        public var updates: Int
        public var deletes: Int
        public var truncates: Int

        public init(inserts: Int = 0, updates: Int = 0, deletes: Int = 0, truncates: Int = 0) {
            self.inserts = inserts
            self.updates = updates
            self.deletes = deletes
            self.truncates = truncates
        }

        public var total: Int { inserts + updates + deletes + truncates }

        subscript(figure: Figure) -> Int {
            switch figure {
            case .inserts: inserts
            case .updates: updates
            case .deletes: deletes
            case .truncates: truncates
            }
        }
    }

    /// Which figure a verdict is about.
    public enum Figure: String, Sendable, CaseIterable, Codable {
        case inserts, updates, deletes, truncates
    }

    /// What the history was compared by.
    public enum Basis: String, Sendable, Codable {
        /// The same weekday's windows of the trailing span.
        case weekday
        /// Every window of the trailing span.
        case trailing
    }

    /// The verdict on one figure.
    public struct FigureVerdict: Sendable, Equatable {
        public var figure: Figure
        public var value: Int
        /// The figures that would not have been unusual.
        public var expected: ClosedRange<Int>
        public var isUnusual: Bool
        public var basis: Basis
        /// How many windows the expectation rests on.
        public var points: Int
    }

    /// The verdict on a table in a window.
    public enum Verdict: Sendable, Equatable {
        /// Each figure against its expected range; `unusual` when any figure is.
        case judged([FigureVerdict])
        /// It changed in most windows of its history and not at all in this one.
        case silent(changedIn: Int, of: Int)
        /// Its first changes: no window of history.
        case new
        /// Too little history to say what is usual.
        case notEnoughHistory(have: Int, need: Int)

        /// Whether the digest lists the table among the unusual ones.
        public var isUnusual: Bool {
            switch self {
            case .judged(let figures): figures.contains(where: \.isUnusual)
            case .silent: true
            case .new, .notEnoughHistory: false
            }
        }
    }

    /// Judges `window` against `history` (oldest first; only the last ``span`` windows count).
    public func judge(_ window: Window, history: [Window]) -> Verdict {
        let history = Array(history.suffix(span))
        guard !history.isEmpty else {
            return window.volumes.total > 0 ? .new : .notEnoughHistory(have: 0, need: minimumHistory)
        }
        guard history.count >= minimumHistory else {
            return .notEnoughHistory(have: history.count, need: minimumHistory)
        }
        if window.volumes.total == 0 {
            let changedIn = history.count { $0.volumes.total > 0 }
            if Double(changedIn) >= silentShare * Double(history.count) {
                return .silent(changedIn: changedIn, of: history.count)
            }
        }
        var basis = Basis.trailing
        var points = history
        if let weekday = window.weekday {
            let sameDay = history.filter { $0.weekday == weekday }
            if sameDay.count >= weekdayMinimum {
                basis = .weekday
                points = sameDay
            }
        }
        return .judged(
            Figure.allCases.map { figure in
                let value = window.volumes[figure]
                let expected = expectedRange(of: points.map { $0.volumes[figure] })
                return FigureVerdict(
                    figure: figure,
                    value: value,
                    expected: expected,
                    isUnusual: !expected.contains(value),
                    basis: basis,
                    points: points.count
                )
            }
        )
    }

    /// The figures whose modified z-score stays within ``threshold`` of `values`, widened to
    /// the floors; never below 0.
    func expectedRange(of values: [Int]) -> ClosedRange<Int> {
        let median = Self.median(values.map(Double.init))
        let mad = Self.median(values.map { abs(Double($0) - median) })
        // |0.6745 · (x − median) / MAD| ≤ threshold  ⇔  |x − median| ≤ threshold · MAD / 0.6745
        let reach = max(threshold * mad / 0.6745, Double(absoluteFloor), relativeFloor * median)
        let lower = max(0, Int((median - reach).rounded(.up)))
        let upper = Int((median + reach).rounded(.down))
        return lower...max(lower, upper)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
