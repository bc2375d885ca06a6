import DaybookCore
import Foundation
import Logging
import PostgresReplication
import ServiceLifecycle

/// `daybook run --heartbeat-every`: the service injects the fake update itself, so a
/// deployment without cron still closes windows on a quiet database.
///
/// Each beat opens a short-lived ordinary connection on a dispatch queue (libpq blocks), so
/// the cooperative thread pool never waits on the network. A failed beat is logged and the
/// next one tried on schedule: a missed heartbeat delays closing, it loses nothing.
public struct HeartbeatService: Service, CustomStringConvertible {
    public let source: ConnectionString
    public let interval: Duration
    public let method: Heartbeat.Method
    public let publication: String
    public let logger: Logger

    public init(
        source: ConnectionString,
        interval: Duration,
        method: Heartbeat.Method,
        publication: String,
        logger: Logger
    ) {
        self.source = source
        self.interval = interval
        self.method = method
        self.publication = publication
        self.logger = logger
    }

    public var description: String { "HeartbeatService(every: \(interval), via: \(method.rawValue))" }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    await beatOnce()
                }
            }
        } catch is CancellationError {
            return
        }
    }

    private func beatOnce() async {
        let source = source
        let method = method
        let publication = publication
        let result: Result<Heartbeat.Beat, DaybookError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Result { () throws(DaybookError) in
                        try DaybookError.mapping(role: .source) {
                            let connection = try PostgresConnection(source, applicationName: "daybook-heartbeat")
                            return try Heartbeat.beat(on: connection, via: method, publication: publication)
                        }
                    }
                )
            }
        }
        switch result {
        case .success(let beat):
            logger.debug("heartbeat written", metadata: ["daybook.heartbeat": "\(beat.detail)"])
        case .failure(let error):
            logger.warning("heartbeat failed; trying again next interval", metadata: [LogKey.error: "\(error.message)"])
        }
    }
}
