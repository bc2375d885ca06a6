import Daybook
import DaybookCore
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// The HTTP side of Daybook: `/metrics`, `/healthz`, `/readyz` and the JSON API, beside the stream
/// (`daybook run --listen`) or from the sink alone (`daybook serve`), as a ServiceLifecycle
/// service that stops with the rest of the process.
///
/// It never stops the stream: a failing request is that request's problem. Only a failure to
/// listen at start ends the process, with a message that says what to change.
public struct DaybookHTTPServer: Service, CustomStringConvertible {
    /// What the health endpoints ask: the pipeline's ``ServiceHealth`` for `run`, the sink for
    /// `serve`.
    public struct Health: Sendable {
        public var isAlive: @Sendable () -> Bool
        public var readiness: @Sendable () async -> ServiceHealth.Readiness

        public init(
            isAlive: @escaping @Sendable () -> Bool,
            readiness: @escaping @Sendable () async -> ServiceHealth.Readiness
        ) {
            self.isAlive = isAlive
            self.readiness = readiness
        }

        /// The pipeline's own state, for `daybook run`.
        public static func pipeline(_ health: ServiceHealth) -> Health {
            Health(isAlive: { health.isAlive() }, readiness: { health.readiness() })
        }
    }

    let address: ListenAddress
    let policy: AccessPolicy
    let metrics: MetricsRegistry
    let health: Health
    let logger: Logger
    /// Runs before each scrape (`serve` reads the sink's figures into the registry here).
    let beforeScrape: @Sendable () async -> Void
    let api: DaybookAPI
    let dashboard: Dashboard

    /// - Parameters:
    ///   - lagHistory: the slot's lag over the last hour, for the dashboard's chart.
    ///   - mode: how the dashboard names the process ("streaming", "read-only").
    public init(
        address: ListenAddress,
        policy: AccessPolicy,
        metrics: MetricsRegistry,
        health: Health,
        api: DaybookAPI,
        lagHistory: LagHistory?,
        mode: String,
        logger: Logger,
        beforeScrape: @escaping @Sendable () async -> Void = {}
    ) {
        self.api = api
        self.dashboard = Dashboard(api: api, lagHistory: lagHistory, mode: mode)
        self.address = address
        self.policy = policy
        self.metrics = metrics
        self.health = health
        self.logger = logger
        self.beforeScrape = beforeScrape
    }

    /// The routes and middlewares, without a socket: ``run()`` serves them, and the route
    /// tests call them in process (HummingbirdTesting).
    public func buildRouter() -> Router<BasicRequestContext> {
        // HEAD is answered on every GET route, as GET without its body.
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: LoopbackHostMiddleware(policy: policy))
        router.add(middleware: ReadOnlyMiddleware())
        router.add(middleware: BearerTokenMiddleware(policy: policy))
        let health = health
        let metrics = metrics
        let beforeScrape = beforeScrape
        router.get("/healthz") { _, _ in
            health.isAlive()
                ? Answer.text("ok")
                : Answer.text(
                    "the replication loop shows no progress: see /readyz and the log",
                    status: .serviceUnavailable
                )
        }
        router.get("/readyz") { _, _ in
            let readiness = await health.readiness()
            return Answer(
                .json,
                DaybookJSON.text(ReadinessBody(ready: readiness.isReady, checks: readiness.checks)),
                status: readiness.isReady ? .ok : .serviceUnavailable
            )
        }
        router.get("/metrics") { _, _ in
            await beforeScrape()
            return Answer(.metrics, ByteBuffer(bytes: metrics.exposition()))
        }
        api.register(on: router)
        dashboard.register(on: router)
        return router
    }

    public func run() async throws {
        let router = buildRouter()
        let address = address
        let logger = logger
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [SecurityHeadersChannelHandler()])),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info(
                    "serving HTTP",
                    metadata: ["daybook.listen": "\(ListenAddress(host: address.host, port: port))"]
                )
            },
            logger: logger
        )
        do {
            try await app.run()
        } catch let error as IOError {
            throw DaybookError(
                .configuration,
                "cannot listen on \(address): \(error.description) — choose another address or port with --listen"
            )
        }
    }

    /// What `ServiceGroup` logs when it starts and stops the service: the address, never the
    /// policy's token or the API's connection strings.
    public var description: String { "DaybookHTTPServer(listen: \(address))" }

    private struct ReadinessBody: Encodable {
        var ready: Bool
        var checks: [String: String]
    }

}
