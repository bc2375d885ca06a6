import ArgumentParser
import Daybook
import PostgresReplication

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the slot, the checkpoint, stream time, open windows and when each closes, and the last heartbeat.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        try reportingErrors {
            let sink = try connect(connection.sinkConnection, role: "sink")
            try Migrator().requireCurrent(sink)
            let source: Result<PostgresConnection, DaybookError>
            do throws(PostgresError) { source = .success(try PostgresConnection(connection.source)) } catch {
                source = .failure(DaybookError.from(error, role: "source"))
            }
            for line in try StatusReport.lines(source: source, sink: sink, slot: connection.slot) { print(line) }
        }
    }
}
