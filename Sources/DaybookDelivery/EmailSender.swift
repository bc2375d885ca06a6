import Daybook
import DaybookCore
import Foundation

/// One email of a day's digest, handed to msmtp (Debian's `msmtp`), which speaks SMTP to the
/// destination's server: STARTTLS or TLS with the certificate checked against the system's
/// authorities (GnuTLS), a login with the password read from its file, a timeout.
///
/// Why msmtp and not a Swift library: no SMTP client is kept in the Swift server ecosystem
/// (swift-nio's SMTP example is an example), and SMTP with STARTTLS, authentication mechanisms
/// and certificate checks is exactly what a kept tool should do; msmtp is the `sendmail`
/// interface Debian ships (`msmtp-mta`), and every setting comes from the destination on the
/// command line (`--host`), so no configuration file of the machine is read or needed.
struct EmailSender: Sendable {
    /// The msmtp program, found on the PATH.
    var program = "msmtp"
    /// Seconds msmtp waits for the server at each step.
    var timeout = 30

    /// Sends `message` through the destination's server. Blocking: call it from a thread that
    /// may block.
    func send(_ message: EmailMessage, via email: Destination.Email, now: Date = Date()) -> DeliveryResult {
        guard let executable = Self.find(program) else {
            return DeliveryResult(attempt: .noAnswer, error: "msmtp is not installed: apt-get install msmtp")
        }
        // The message goes in from a file (mode 600, removed after): a pipe that msmtp stops
        // reading when the server is unreachable would end this process with SIGPIPE.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-mail-\(UUID().uuidString)")
        let boundary = "daybook-" + UUID().uuidString.lowercased()
        guard
            FileManager.default.createFile(
                atPath: file.path,
                contents: Data(message.rendered(date: now, boundary: boundary).utf8),
                attributes: [.posixPermissions: 0o600]
            ), let input = FileHandle(forReadingAtPath: file.path)
        else {
            return DeliveryResult(attempt: .noAnswer, error: "cannot write the message to \(file.path)")
        }
        defer {
            try? input.close()
            try? FileManager.default.removeItem(at: file)
        }
        let process = Process()
        let errors = Pipe()
        process.executableURL = executable
        process.arguments = Self.arguments(email, timeout: timeout)
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        do { try process.run() } catch {
            return DeliveryResult(attempt: .noAnswer, error: "cannot start msmtp: \(error)")
        }
        // msmtp's timeout is per step: a server that answers slowly at every step could hold
        // the sender for long. Past the deadline it is stopped, and the attempt failed.
        let deadline = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(timeout * 4), execute: deadline)
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        deadline.cancel()
        if process.terminationReason == .uncaughtSignal {
            return DeliveryResult(attempt: .noAnswer, error: "the mail server: no answer within \(timeout * 4) s")
        }
        if process.terminationStatus == 0 { return DeliveryResult(attempt: .answered(status: 250)) }
        let text = String(decoding: said, as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.hasPrefix("msmtp: ") ? $0.dropFirst(7) : $0 }
            .filter { !$0.hasPrefix("could not send mail") }
        return DeliveryResult(
            attempt: Self.isPermanentRefusal(text) ? .refused : .noAnswer,
            error: "the mail server: " + String(lines.joined(separator: "; ").prefix(300))
        )
    }

    /// Whether the server refused for good: its reply (`server message: 535 …`, which msmtp
    /// prints) is a 5xx. A 4xx (a login throttled, a mailbox busy) may pass, as may anything
    /// that is no reply (unreachable, TLS, a timeout); msmtp's exit status alone cannot tell.
    static func isPermanentRefusal(_ said: String) -> Bool {
        said.split(separator: "\n").contains { line in
            guard let range = line.range(of: "server message: ") else { return false }
            return line[range.upperBound...].first == "5"
        }
    }

    /// msmtp's command line: every setting from the destination, none from a file.
    static func arguments(_ email: Destination.Email, timeout: Int) -> [String] {
        var arguments = [
            "--host=\(email.host)", "--port=\(email.port)", "--timeout=\(timeout)", "--from=\(email.from)",
        ]
        switch email.security {
        case .starttls: arguments += ["--tls=on", "--tls-starttls=on", "--tls-trust-file=system"]
        case .tls: arguments += ["--tls=on", "--tls-starttls=off", "--tls-trust-file=system"]
        case .none: arguments += ["--tls=off"]
        }
        if let user = email.user, let passwordFile = email.passwordFile {
            // msmtp runs the command through the shell: the file's name is quoted for it.
            let quoted = "'" + passwordFile.replacingOccurrences(of: "'", with: "'\\''") + "'"
            // Over TLS msmtp picks the best method the server offers; in the clear (loopback
            // only, checked at `notify add`) it would pick none, so PLAIN is asked for.
            let method = email.security == .none ? "plain" : "on"
            arguments += ["--auth=\(method)", "--user=\(user)", "--passwordeval=cat -- \(quoted)"]
        } else {
            arguments += ["--auth=off"]
        }
        return arguments + ["--"] + email.to
    }

    /// `name` as an executable: a path as it is, else the first match on the PATH.
    static func find(_ name: String) -> URL? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    /// Whether msmtp can be found, for `notify add`.
    var isInstalled: Bool { Self.find(program) != nil }
}
