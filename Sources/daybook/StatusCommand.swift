import ArgumentParser
import Daybook
import DaybookCore
import PostgresReplication

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the slot, the checkpoint, stream time, open windows and when each closes, and the heartbeats.",
        discussion: """
            Warnings come last: heartbeats that stopped reaching the stream (older than twice \
            --heartbeat-interval), a slot retaining more than --max-retained-wal of WAL, an invalidated slot, \
            a heartbeat table missing from the publication. Each says what to do.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(
        name: .long,
        help: "Output: text (lines, warnings last) or json (one object, as GET /api/v1/status serves it)."
    )
    var format: StatusFormat = .text

    @Option(name: .long, help: "Publication that should carry daybook.heartbeat.")
    var publication: String = "daybook"

    @Option(name: .long, help: "How often heartbeats are expected (e.g. 5m).")
    var heartbeatInterval: String = "5m"

    @Option(name: .long, help: "Warn when the slot retains more WAL than this many megabytes.")
    var maxRetainedWal: Int = 1024

    func validate() throws {
        do { _ = try DurationText.duration(heartbeatInterval) } catch {
            throw ValidationError("--heartbeat-interval: \(error)")
        }
    }

    func run() throws {
        try reportingErrors {
            let sink = try connectCurrentSink(connection)
            let source: Result<PostgresConnection, DaybookError>
            do throws(PostgresError) { source = .success(try PostgresConnection(connection.source)) } catch {
                source = .failure(DaybookError.from(error, role: .source))
            }
            var report = StatusReport(slot: connection.slot)
            report.publication = publication
            report.heartbeatInterval = try DurationText.duration(heartbeatInterval)
            report.maxRetainedWAL = Int64(maxRetainedWal) * 1_048_576
            let status = try report.collect(source: source, sink: sink)
            switch format {
            case .text: for line in StatusReport.lines(of: status) { print(line) }
            case .json: print(DaybookJSON.text(status))
            }
        }
    }
}

enum StatusFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
