import Foundation

/// Who may use the HTTP server: anyone who can connect (loopback, or an explicit
/// `--insecure-no-auth`), or only requests carrying the bearer token from `--auth-token-file`.
public struct AccessPolicy: Sendable {
    /// The token's bytes; nil when no token is asked for.
    let token: [UInt8]?

    /// What is wrong with the options, and what to do.
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// The policy for `address` given the options, or why they do not go together.
    ///
    /// A non-loopback address without a token is refused: the API shows row values, and an
    /// operator who wants that open must say so with `insecureNoAuth`.
    public init(address: ListenAddress, tokenFile: String?, insecureNoAuth: Bool) throws(Refused) {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw Refused(description: "cannot read the token file \(tokenFile): check that it exists and that this user may read it")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.utf8.count >= 16 else {
                throw Refused(
                    description: "the token in \(tokenFile) is shorter than 16 characters: use a long random one, "
                        + "e.g. `openssl rand -hex 32 > \(tokenFile)`")
            }
            self.token = Array(token.utf8)
        } else if address.isLoopback || insecureNoAuth {
            self.token = nil
        } else {
            throw Refused(
                description: "listening on \(address) would let other machines read the API without a password: "
                    + "give --auth-token-file FILE (a bearer token), or --insecure-no-auth if that is what you want")
        }
    }

    /// Whether an `Authorization` header value carries the token; always true without one.
    /// Compares in constant time, so response times do not tell how much of a guess was right.
    func admits(authorization: String?) -> Bool {
        guard let token else { return true }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let offered = Array(authorization.utf8.dropFirst(7))
        var difference = UInt8(truncatingIfNeeded: offered.count ^ token.count)
        for index in 0..<token.count {
            difference |= token[index] ^ (index < offered.count ? offered[index] : 0)
        }
        return difference == 0
    }
}
