import ArgumentParser
import Daybook

extension Heartbeat.Method: ExpressibleByArgument {}

struct HeartbeatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract: "Make the fake update that moves stream time on a quiet database.",
        discussion: """
            With --via table (the default), updates the one row of daybook.heartbeat in its own transaction; \
            the table must be in Daybook's publication. With --via message, writes a transactional \
            pg_logical_emit_message with prefix daybook.heartbeat instead: no table churn, no publication needed. \
            Either reaches Daybook through the replication stream; its commit time moves stream time forward, \
            closing the windows that are due. It never appears in a summary. Run it from cron every few \
            minutes (see cron/), or let `daybook run --heartbeat-every` do it.

            Before writing, it checks that the heartbeat can arrive at all (wal_level = logical; the table \
            exists and is published) and says what to run when not.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "Publication that must contain daybook.heartbeat (--via table).")
    var publication: String = "daybook"

    @Option(name: .long, help: "How to make the heartbeat: table or message.")
    var via: Heartbeat.Method = .table

    @Flag(name: .long, help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let source = try connect(connection.writableSource, role: .source)
            let beat = try Heartbeat.beat(on: source, via: via, publication: publication)
            if !quiet { print("heartbeat\(beat.count.map { " \($0)" } ?? "") \(beat.detail)") }
        }
    }
}
