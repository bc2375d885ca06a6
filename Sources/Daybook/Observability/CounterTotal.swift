import Metrics
import Synchronization

/// A counter whose total is kept elsewhere (the sink, which outlives the process): each
/// reading of the total increments the counter by what is new, so the counter starts at the
/// total and never goes down, as Prometheus expects of a `_total`.
public final class CounterTotal: Sendable {
    private let metric: DaybookMetric
    /// Counted so far, per set of label values.
    private let counted = Mutex<[[String]: Int]>([:])

    public init(_ metric: DaybookMetric) { self.metric = metric }

    /// Records the total as read now for the series of `dimensions` (the counter is looked up
    /// here, so that it reaches the metrics backend bootstrapped by then, and shows 0 from the
    /// first reading).
    public func record(total: Int, dimensions: [(String, String)] = []) {
        let series = dimensions.flatMap { [$0.0, $0.1] }
        let increment = counted.withLock { counted in
            defer { counted[series] = max(counted[series, default: 0], total) }
            return max(0, total - counted[series, default: 0])
        }
        Counter(label: metric.rawValue, dimensions: dimensions).increment(by: Int64(increment))
    }

    /// Forgets what was counted for every series with this label value (a destination removed):
    /// its totals in the sink start again from 0, and so does this count, so that the counter
    /// moves again as soon as they grow.
    public func forget(_ label: String, _ value: String) {
        counted.withLock { counted in
            counted = counted.filter { series, _ in
                !stride(from: 0, to: series.count - 1, by: 2).contains {
                    series[$0] == label && series[$0 + 1] == value
                }
            }
        }
    }
}
