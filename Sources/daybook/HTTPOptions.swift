import ArgumentParser
import DaybookHTTP
import Foundation

/// `--listen`, `--auth-token-file`, `--insecure-no-auth`: where the HTTP side listens and who
/// may use it, shared by `run` and `serve`.
struct HTTPOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Serve /metrics, /healthz and /readyz on HOST:PORT (e.g. 127.0.0.1:9187). Also DAYBOOK_LISTEN.",
            discussion: "Any address but loopback needs --auth-token-file or --insecure-no-auth.",
            valueName: "host:port"
        )
    )
    var listen: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file holding the bearer token every request but /healthz must carry (Authorization: Bearer TOKEN).",
            valueName: "file"
        )
    )
    var authTokenFile: String?

    @Flag(name: .long, help: "Serve a non-loopback address without a token (anyone who can connect reads the API).")
    var insecureNoAuth = false

    /// The address asked for, by option or environment, resolved to the IP address the server
    /// binds (the loopback rule is decided on it, never on a name); nil when HTTP is off.
    func address(default fallback: String? = nil) throws -> ListenAddress? {
        guard let text = listen ?? ProcessInfo.processInfo.environment["DAYBOOK_LISTEN"] ?? fallback else { return nil }
        do { return try ListenAddress(parsing: text).resolved() } catch { throw ValidationError("--listen: \(error)") }
    }

    /// Checks the address and the token rules; `fallback` is the command's default address
    /// (`serve` has one, `run` serves HTTP only when asked).
    func check(default fallback: String? = nil) throws {
        guard let address = try address(default: fallback) else {
            if authTokenFile != nil || insecureNoAuth {
                throw ValidationError("--auth-token-file and --insecure-no-auth need --listen (or DAYBOOK_LISTEN)")
            }
            return
        }
        _ = try policy(for: address)
    }

    func policy(for address: ListenAddress) throws -> AccessPolicy {
        do {
            return try AccessPolicy(address: address, tokenFile: authTokenFile, insecureNoAuth: insecureNoAuth)
        } catch { throw ValidationError("\(error)") }
    }
}
