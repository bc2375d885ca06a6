import Metrics
import Synchronization

/// The deliveries' metrics, from the sink's figures (``DestinationStatus``), read at each
/// scrape by `run --listen` and `serve`: whichever process sent (this one, another, `notify
/// send` from cron), the sink knows what happened, so every scraper reports the same.
public final class DeliveryMetrics: Sendable {
    private let deliveries = CounterTotal(.deliveries)
    /// Destinations seen: one removed since reads 0 pending, not its last figure.
    private let seen = Mutex<Set<String>>([])

    public init() {}

    public func record(_ destinations: [DestinationStatus]) {
        let removed = seen.withLock { seen in
            let now = Set(destinations.map(\.name))
            defer { seen = now }
            return seen.subtracting(now)
        }
        for name in removed {
            deliveries.forget("destination", name)
            Gauge(label: DaybookMetric.deliveriesPending.rawValue, dimensions: [("destination", name)]).record(0)
            Gauge(label: DaybookMetric.oldestPendingDelivery.rawValue, dimensions: [("destination", name)]).record(0)
        }
        for destination in destinations {
            let name = ("destination", destination.name)
            for outcome in ["delivered", "retry", "failed"] {
                deliveries.record(
                    total: destination.attempts[outcome, default: 0],
                    dimensions: [name, ("outcome", outcome)]
                )
            }
            deliveries.record(total: destination.skipped, dimensions: [name, ("outcome", "skipped")])
            Gauge(label: DaybookMetric.deliveriesPending.rawValue, dimensions: [name]).record(destination.pending)
            Gauge(label: DaybookMetric.oldestPendingDelivery.rawValue, dimensions: [name])
                .record(destination.oldestPendingAgeSeconds ?? 0)
        }
    }
}
