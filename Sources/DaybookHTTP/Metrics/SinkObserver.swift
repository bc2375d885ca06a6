import Daybook
import DaybookCore
import Metrics
import NIOPosix
import Synchronization

/// `daybook serve`'s view of a slot: the sink's figures (``SinkFigures``) as metrics at each
/// scrape, and the sink's reachability as readiness. Read-only: it runs SELECTs and nothing
/// else, so a read-only role is enough.
///
/// libpq blocks, so every read runs on NIO's blocking-I/O thread pool, through the query
/// layer's ``SinkReader`` and its pool of connections.
public final class SinkObserver: Sendable {
    let reader: SinkReader
    /// The sink holds totals, counters take increments.
    private let closedWindows = CounterTotal(.closedWindows)
    private let gaps = CounterTotal(.gaps)
    private let deliveries = DeliveryMetrics()

    public init(reader: SinkReader) {
        self.reader = reader
    }

    private func read() async throws -> SinkFigures? {
        let reader = reader
        return try await NIOThreadPool.singleton.runIfActive { try reader.figures() }
    }

    /// Ready when the sink answers with a current schema (the slot may have no checkpoint yet).
    public func readiness() async -> ServiceHealth.Readiness {
        do {
            _ = try await read()
            return ServiceHealth.Readiness(isReady: true, checks: ["sink": "ok"])
        } catch let error as DaybookError {
            return ServiceHealth.Readiness(isReady: false, checks: ["sink": error.publicMessage])
        } catch {
            return ServiceHealth.Readiness(isReady: false, checks: ["sink": "unavailable"])
        }
    }

    /// Reads the sink's figures into the metrics; a sink that does not answer leaves them as
    /// they were (and `/readyz` says why).
    public func recordMetrics() async {
        guard let figures = try? await read() else { return }
        Gauge(label: DaybookMetric.checkpointLSN.rawValue).record(Double(figures.checkpointLSN.rawValue))
        if let time = figures.streamTime { Gauge(label: DaybookMetric.streamTime.rawValue).record(time) }
        if let time = figures.lastHeartbeat { Gauge(label: DaybookMetric.lastHeartbeat.rawValue).record(time) }
        Gauge(label: DaybookMetric.openWindows.rawValue).record(figures.openWindows)
        Gauge(label: DaybookMetric.oldestOpenWindowClosesAt.rawValue).record(figures.oldestOpenWindowClosesAt ?? 0)
        Gauge(label: DaybookMetric.closingWindows.rawValue).record(figures.closingWindows)
        gaps.record(total: figures.gaps)
        for (reason, total) in figures.closedWindows {
            closedWindows.record(total: total, dimensions: [("closed_by", reason)])
        }
        await recordDeliveries()
    }

    /// Reads the destinations into the delivery metrics: `run --listen` calls this alone (its
    /// other metrics come from the stream).
    public func recordDeliveries() async {
        let reader = reader
        guard
            let destinations = try? await NIOThreadPool.singleton.runIfActive({
                try reader.read { try $0.destinations() }
            })
        else { return }
        deliveries.record(destinations)
    }
}
