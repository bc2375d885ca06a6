import ArgumentParser
import Daybook
import DaybookCore
import DaybookDelivery
import Logging
import PostgresReplication

/// `--deliver-every` and `--delivery-retry-base`: how the sender in `run` and `serve` works
/// through the outbox (README, "Delivered when the day closes").
struct DeliveryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("How often the sender looks for deliveries that are due (e.g. 5s).", valueName: "duration")
    )
    var deliverEvery: String = "5s"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The wait before a failed delivery's first retry, doubling after each up to 1h (12 attempts; 3 for a refusal).",
            valueName: "duration"
        )
    )
    var deliveryRetryBase: String = "30s"

    func check() throws {
        _ = try interval()
        _ = try policy()
    }

    private func interval() throws -> Duration {
        let interval: Duration
        do { interval = try DurationText.duration(deliverEvery) } catch {
            throw ValidationError("--deliver-every: \(error)")
        }
        guard interval >= .milliseconds(100) else { throw ValidationError("--deliver-every must be at least 100ms") }
        return interval
    }

    private func policy() throws -> DeliveryPolicy {
        var policy = DeliveryPolicy()
        do { policy.base = try DurationText.duration(deliveryRetryBase) } catch {
            throw ValidationError("--delivery-retry-base: \(error)")
        }
        guard policy.base > .zero else { throw ValidationError("--delivery-retry-base must be longer than 0") }
        return policy
    }

    /// The sender service for the sink.
    func service(
        sink: ConnectionString,
        logger: Logger,
        startWhen: @escaping @Sendable () -> Bool = { true }
    ) throws -> DeliveryService {
        DeliveryService(
            sender: OutboxSender(sink: sink, policy: try policy(), logger: logger),
            interval: try interval(),
            logger: logger,
            startWhen: startWhen
        )
    }
}
