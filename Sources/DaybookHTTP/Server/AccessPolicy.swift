import Daybook
import DaybookCore
import Foundation

/// Who may use the HTTP server: anyone who can connect (loopback, or an explicit
/// `--insecure-no-auth`), or only requests carrying the bearer token from `--auth-token-file`.
public struct AccessPolicy: Sendable {
    /// The token; nil when no token is asked for. A ``Secret``: it prints as `<redacted>`.
    let token: Secret?

    /// What is wrong with the options, and what to do.
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// The policy for `address` given the options, or why they do not go together.
    ///
    /// A non-loopback address without a token is refused: the API shows row values, and an
    /// operator who wants that open must say so with `insecureNoAuth`. `address` is the
    /// resolved one (``ListenAddress/resolved()``): a name counts for nothing.
    public init(address: ListenAddress, tokenFile: String?, insecureNoAuth: Bool) throws(Refused) {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw Refused(
                    description:
                        "cannot read the token file \(tokenFile): check that it exists and that this user may read it"
                )
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.utf8.count >= 16 else {
                throw Refused(
                    description: "the token in \(tokenFile) is shorter than 16 characters: use a long random one, "
                        + "e.g. `openssl rand -hex 32 > \(tokenFile)`"
                )
            }
            self.requiresLoopbackHost = false
            self.token = Secret(token)
        } else if address.isLoopback || insecureNoAuth {
            self.token = nil
            self.requiresLoopbackHost = address.isLoopback
        } else {
            throw Refused(
                description: "listening on \(address) would let other machines read the API without a password: "
                    + "give --auth-token-file FILE (a bearer token), or --insecure-no-auth if that is what you want"
            )
        }
    }

    /// Whether an `Authorization` header value carries the token; always true without one.
    /// Compares in constant time, so response times do not tell how much of a guess was right.
    /// The scheme is case-insensitive (RFC 9110, 11.1): `bearer` and `BEARER` are `Bearer`.
    func admits(authorization: String?) -> Bool {
        guard let token else { return true }
        guard let authorization, authorization.prefix(7).lowercased() == "bearer " else { return false }
        let offered = Array(authorization.utf8.dropFirst(7))
        return token.withBytes { token in
            var difference = UInt8(truncatingIfNeeded: offered.count ^ token.count)
            for index in 0..<token.count {
                difference |= token[index] ^ (index < offered.count ? offered[index] : 0)
            }
            return difference == 0
        }
    }

    /// Whether requests must name this host in `Host`: a listener without a token on loopback
    /// trusts every process of this machine, but not a web page that a browser here opened from
    /// elsewhere, which may reach it under a name of its own (DNS rebinding). Such a page's
    /// requests carry its name in `Host`; only loopback names are accepted.
    let requiresLoopbackHost: Bool

    /// Whether a `Host` header value may be answered (see ``requiresLoopbackHost``): `localhost`,
    /// an IPv4 address in 127.0.0.0/8 or `[::1]`, with or without a port. A request without
    /// `Host` (HTTP/1.0, not a browser) is answered.
    func admits(host: String?) -> Bool {
        guard requiresLoopbackHost, let host else { return true }
        let name: Substring
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = host[host.index(after: host.startIndex)..<close]
        } else {
            name = host.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        return name.lowercased() == "localhost" || ListenAddress(host: String(name), port: 0).isLoopback
    }
}
