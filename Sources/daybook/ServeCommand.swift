import ArgumentParser
import Daybook
import DaybookDelivery
import DaybookHTTP
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the dashboard, the JSON API, /metrics, /healthz and /readyz from the sink alone, read-only.",
        discussion: """
            For a machine that only looks, or a deployment that runs `daybook run --until-caught-up` from \
            cron: the metrics are those the sink can tell (checkpoint LSN, stream time, last heartbeat, \
            windows open, closing and closed by what), read at each scrape; /readyz answers 200 while the \
            sink answers with a current schema. Only SELECTs are run: a read-only role is enough (README, \
            Roles), unless --deliver also sends closed days to their destinations. Listens on 127.0.0.1:9187 \
            unless --listen (or DAYBOOK_LISTEN) says otherwise.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup(title: "HTTP") var http: HTTPOptions
    @OptionGroup(title: "Delivery") var delivery: DeliveryOptions

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Also deliver closed days to the destinations of `daybook notify` (needs a role that may write them).",
            discussion: "For a deployment whose stream runs from cron (run --until-caught-up): serve sends what "
                + "closes, as run does. Beside another sender it is safe: one at a time sends to a destination."
        )
    )
    var deliver = false

    static let defaultAddress = "127.0.0.1:9187"

    func validate() throws {
        try http.check(default: Self.defaultAddress)
        try delivery.check()
    }

    func run() async throws {
        try bootstrapLogging(level: logging.logLevel)
        guard let address = try http.address(default: Self.defaultAddress) else { return }
        let policy = try http.policy(for: address)
        let logger = Logger(label: "daybook")
        let registry = MetricsRegistry.bootstrap()
        // One query layer, one pool of connections, for the API, the dashboard, the metrics,
        // readiness and the lag chart.
        let reader = SinkReader(
            sink: connection.sinkConnection,
            source: connection.source,
            status: StatusReport(slot: connection.slot)
        )
        let observer = SinkObserver(reader: reader)
        let lagHistory = LagHistory()
        let server = DaybookHTTPServer(
            address: address,
            policy: policy,
            metrics: registry,
            health: .init(isAlive: { true }, readiness: { await observer.readiness() }),
            api: DaybookAPI(reader: reader, logger: logger),
            lagHistory: lagHistory,
            mode: "read-only (serve)",
            logger: logger,
            beforeScrape: { await observer.recordMetrics() }
        )
        var services: [any Service] = [server, SlotLagSampler(reader: reader, history: lagHistory)]
        if deliver { services.append(try delivery.service(sink: connection.sinkConnection, logger: logger)) }
        try await reportingErrorsAsync {
            let group = ServiceGroup(
                configuration: .init(
                    services: services,
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
        }
    }
}
