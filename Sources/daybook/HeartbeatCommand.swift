import ArgumentParser
import Daybook

struct HeartbeatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract: "Make the fake update that moves stream time on a quiet database.",
        discussion: """
            Updates the one row of daybook.heartbeat in its own transaction. The update reaches Daybook through \
            the replication stream; its commit time moves stream time forward, closing windows that are due. \
            It never appears in a summary. Run it from cron every few minutes (see cron/).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let source = try connect(connection.source, role: "source")
            let beat = try Heartbeat.beat(on: source)
            if !quiet { print("heartbeat \(beat.beats) at \(beat.at)") }
        }
    }
}
