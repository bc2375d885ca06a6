import NIOCore

/// Where the HTTP server listens: `127.0.0.1:9187`, `[::1]:9187`, `0.0.0.0:9187`, or `:9187`
/// (loopback). Port 0 lets the system choose (the log line says which).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// A user's mistake in `--listen`, said so that they can fix it.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(Invalid) {
        let example = "write it as HOST:PORT, e.g. 127.0.0.1:9187 or [::1]:9187"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw Invalid(description: "'\(text)' is not an address: \(example)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw Invalid(description: "'\(text)' is not an address: \(example)")
            }
            host = text[..<colon].isEmpty ? "127.0.0.1" : text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw Invalid(description: "'\(portText)' in '\(text)' is not a port (0 to 65535): \(example)")
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:".contains($0) }) else {
            throw Invalid(description: "'\(host)' in '\(text)' is not a host name or IP address: \(example)")
        }
        self.init(host: String(host), port: port)
    }

    /// Only this machine can connect: the host is an IP address in 127.0.0.0/8 or `::1`.
    ///
    /// A name is never loopback by itself, whatever it looks like (`127.evil.example` may
    /// resolve to `0.0.0.0`): decide on ``resolved()``, the address the server then binds.
    public var isLoopback: Bool {
        switch try? SocketAddress(ipAddress: host, port: port) {
        case .v4(let address): UInt32(bigEndian: address.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let address):
            withUnsafeBytes(of: address.address.sin6_addr) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
        default: false
        }
    }

    /// The same address with its host resolved to the IP address the server will bind (the
    /// first that the system's resolver gives, as binding a name would take), so that the
    /// loopback decision and the socket see one address.
    public func resolved() throws(Invalid) -> ListenAddress {
        do {
            guard let ip = try SocketAddress.makeAddressResolvingHost(host, port: port).ipAddress else {
                throw Invalid(
                    description: "'\(host)' does not resolve to an IP address: give an address such as 127.0.0.1"
                )
            }
            return ListenAddress(host: ip, port: port)
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid(
                description:
                    "cannot resolve '\(host)' (\(error)): give an IP address such as 127.0.0.1, or a name the resolver knows"
            )
        }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
