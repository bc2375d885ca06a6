import Testing

@testable import DaybookHTTP

/// `--listen` parsing and the token rules: pure, no server.
struct ListenAndAccessTests {
    @Test func addressesParse() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:9187") == ListenAddress(host: "127.0.0.1", port: 9187))
        #expect(try ListenAddress(parsing: "[::1]:80") == ListenAddress(host: "::1", port: 80))
        #expect(try ListenAddress(parsing: ":9187") == ListenAddress(host: "127.0.0.1", port: 9187))
        #expect(try ListenAddress(parsing: "0.0.0.0:0").port == 0)
        #expect(try ListenAddress(parsing: "[::1]:80").description == "[::1]:80")
        for bad in ["localhost", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", "::1:80", "[::1]80", "a b:80", ""] {
            #expect(throws: ListenAddress.Invalid.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }

    @Test func loopbackIsLoopback() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:1").isLoopback)
        #expect(try ListenAddress(parsing: "127.1.2.3:1").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:1").isLoopback)
        #expect(try ListenAddress(parsing: "localhost:1").isLoopback)
        #expect(try !ListenAddress(parsing: "0.0.0.0:1").isLoopback)
        #expect(try !ListenAddress(parsing: "10.0.0.1:1").isLoopback)
    }

    @Test func anOpenAddressNeedsATokenOrSayingSo() throws {
        let open = try ListenAddress(parsing: "0.0.0.0:9187")
        #expect(throws: AccessPolicy.Refused.self) { try AccessPolicy(address: open, tokenFile: nil, insecureNoAuth: false) }
        #expect(try AccessPolicy(address: open, tokenFile: nil, insecureNoAuth: true).admits(authorization: nil))
        #expect(try AccessPolicy(address: try ListenAddress(parsing: "127.0.0.1:1"), tokenFile: nil, insecureNoAuth: false)
            .admits(authorization: nil))
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(address: open, tokenFile: "/nonexistent/token", insecureNoAuth: false)
        }
    }

    @Test func theTokenMustMatchExactly() throws {
        let file = "/tmp/daybook-token-test-\(Int.random(in: 0...1_000_000))"
        try "0123456789abcdef-token\n".write(toFile: file, atomically: true, encoding: .utf8)
        let policy = try AccessPolicy(address: try ListenAddress(parsing: "0.0.0.0:1"), tokenFile: file, insecureNoAuth: false)
        #expect(policy.admits(authorization: "Bearer 0123456789abcdef-token"))
        #expect(!policy.admits(authorization: nil))
        #expect(!policy.admits(authorization: "0123456789abcdef-token"))
        #expect(!policy.admits(authorization: "Bearer 0123456789abcdef-toke"))
        #expect(!policy.admits(authorization: "Bearer 0123456789abcdef-token2"))
        #expect(!policy.admits(authorization: "Bearer 0123456789abcdef-tokeN"))
        #expect(!policy.admits(authorization: "Basic 0123456789abcdef-token"))
        try "short".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(address: try ListenAddress(parsing: "0.0.0.0:1"), tokenFile: file, insecureNoAuth: false)
        }
    }
}
