import Metrics
import Synchronization

/// A counter whose total is kept elsewhere (the sink, which outlives the process): each
/// reading of the total increments the counter by what is new, so the counter starts at the
/// total and never goes down, as Prometheus expects of a `_total`.
public final class CounterTotal: Sendable {
    private let metric: DaybookMetric
    private let counted = Mutex(0)

    public init(_ metric: DaybookMetric) { self.metric = metric }

    /// Records the total as read now (the counter is looked up here, so that it reaches the
    /// metrics backend bootstrapped by then, and shows 0 from the first reading).
    public func record(total: Int) {
        let increment = counted.withLock { counted in
            defer { counted = max(counted, total) }
            return max(0, total - counted)
        }
        Counter(label: metric.rawValue).increment(by: Int64(increment))
    }
}
