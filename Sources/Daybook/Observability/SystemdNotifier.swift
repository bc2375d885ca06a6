import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells systemd how `daybook run` is doing, for `Type=notify` units (`daybook@.service`):
/// `READY=1` once changes flow (so `systemctl start` returns when the service works, and units
/// ordered after it wait for that), `STATUS=` lines that `systemctl status` shows, `WATCHDOG=1`
/// while the pipeline's loop shows progress (the same test as `/healthz`; with `WatchdogSec=` a
/// stuck loop is restarted), and `STOPPING=1` when a stop begins.
///
/// Nothing happens without `$NOTIFY_SOCKET` (run by hand, or by cron). The protocol is one
/// datagram per message on a Unix socket; it is written here because no Swift server package
/// carries it, and it needs nothing but `sendto`.
public struct SystemdNotifierService: Service {
    private let health: ServiceHealth
    private let socketPath: String
    private let watchdogInterval: Duration?
    private let slot: String
    private let logger: Logger

    /// `nil` unless systemd asked for notifications (`$NOTIFY_SOCKET` set).
    public init?(health: ServiceHealth, slot: String, logger: Logger, environment: [String: String]) {
        guard let socketPath = environment["NOTIFY_SOCKET"], !socketPath.isEmpty else { return nil }
        self.health = health
        self.socketPath = socketPath
        self.slot = slot
        self.logger = logger
        // WATCHDOG_USEC is meant for one process: WATCHDOG_PID, when set, names it.
        if let microseconds = environment["WATCHDOG_USEC"].flatMap(UInt64.init), microseconds > 0,
            environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true
        {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    public func run() async throws {
        var notifications = SystemdNotifications(slot: slot)
        var lastWatchdog = ContinuousClock.now
        // Listed after the stream in the service group, this service hears of a stop first and
        // says so before the last checkpoint is written.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let now = ContinuousClock.now
            var messages = notifications.messages(for: health.phase)
            if let watchdogInterval, now - lastWatchdog >= watchdogInterval, health.isAlive(now: now) {
                messages.append("WATCHDOG=1")
                lastWatchdog = now
            }
            for message in messages { send(message) }
            try? await Task.sleep(for: .milliseconds(250))
        }
        send("STOPPING=1\nSTATUS=stopping: writing the last checkpoint")
    }

    /// One datagram to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). A failed
    /// send is logged at debug level and otherwise ignored: systemd's view of Daybook must
    /// never stop the stream.
    private func send(_ message: String) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        if sent < 0 { logger.debug("cannot notify systemd", metadata: ["errno": "\(errno)"]) }
    }
}

/// What to tell systemd as the pipeline's phase changes: `READY=1` the first time changes flow,
/// and a `STATUS=` line for each new phase. A value, so that the decision is tested without a
/// socket.
public struct SystemdNotifications: Sendable {
    private let slot: String
    private var lastPhase: ServiceHealth.Phase?
    private var ready = false

    public init(slot: String) {
        self.slot = slot
    }

    /// The messages due now that the pipeline is in `phase` (none when nothing changed).
    public mutating func messages(for phase: ServiceHealth.Phase) -> [String] {
        guard phase != lastPhase else { return [] }
        lastPhase = phase
        var lines: [String] = []
        switch phase {
        case .starting:
            lines.append("STATUS=starting: checking slot \(slot) and the sink")
        case .readingBacklog:
            lines.append("STATUS=reading slot \(slot)'s backlog through SQL decoding")
        case .streaming:
            lines.append("STATUS=streaming from slot \(slot)")
        case .reconnecting(let attempt, let reason):
            lines.append("STATUS=reconnecting (attempt \(attempt)): \(reason)")
        case .stopped:
            lines.append("STATUS=stopped")
        }
        if !ready, phase == .streaming || phase == .readingBacklog {
            ready = true
            lines.insert("READY=1", at: 0)
        }
        return [lines.joined(separator: "\n")]
    }
}
