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

    @Test func loopbackIsDecidedOnAddressesNeverOnNames() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:1").isLoopback)
        #expect(try ListenAddress(parsing: "127.1.2.3:1").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:1").isLoopback)
        for notLoopback in ["0.0.0.0:1", "10.0.0.1:1", "[::]:1", "[::ffff:127.0.0.1]:1", "128.0.0.1:1"] {
            #expect(try !ListenAddress(parsing: notLoopback).isLoopback, "\(notLoopback)")
        }
        // A name is not an address, whatever it looks like: 127.bypass.test resolved to 0.0.0.0
        // once, through /etc/hosts. Only the resolved address counts.
        for name in ["127.bypass.test:1", "localhost:1", "LOCALHOST:1", "127.0.0.1.nip.io:1"] {
            #expect(try !ListenAddress(parsing: name).isLoopback, "\(name)")
        }
        let localhost = try ListenAddress(parsing: "localhost:9187").resolved()
        #expect(localhost.isLoopback && localhost.port == 9187, "\(localhost)")
        #expect(try ListenAddress(parsing: "127.0.0.1:5").resolved() == ListenAddress(host: "127.0.0.1", port: 5))
        #expect(try ListenAddress(parsing: "0.0.0.0:5").resolved() == ListenAddress(host: "0.0.0.0", port: 5))
    }

    @Test func aNameThatResolvesElsewhereNeedsAToken() throws {
        // What `127.bypass.test` resolved to: the policy sees the resolved address and refuses.
        let resolved = ListenAddress(host: "0.0.0.0", port: 55594)
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(address: resolved, tokenFile: nil, insecureNoAuth: false)
        }
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(
                address: ListenAddress(host: "127.bypass.test", port: 1),
                tokenFile: nil,
                insecureNoAuth: false
            )
        }
    }

    @Test func aTokenlessLoopbackListenerAnswersLoopbackHostsOnly() throws {
        let policy = try AccessPolicy(
            address: ListenAddress(host: "127.0.0.1", port: 9187),
            tokenFile: nil,
            insecureNoAuth: false
        )
        for host in [
            "localhost", "LocalHost:9187", "127.0.0.1:9187", "127.0.0.1", "127.9.9.9:1", "[::1]:9187", "[::1]", nil,
        ] {
            #expect(policy.admits(host: host), "\(host ?? "no Host")")
        }
        for host in [
            "evil.example", "evil.example:9187", "localhost.evil.example", "127.0.0.1.evil.example:9187", "[::2]:9187",
            "0.0.0.0", "",
        ] {
            #expect(!policy.admits(host: host), "\(host)")
        }
        // With a token, or opened on purpose, the Host is the caller's business.
        let open = try AccessPolicy(
            address: ListenAddress(host: "0.0.0.0", port: 1),
            tokenFile: nil,
            insecureNoAuth: true
        )
        #expect(open.admits(host: "evil.example"))
    }

    @Test func anOpenAddressNeedsATokenOrSayingSo() throws {
        let open = try ListenAddress(parsing: "0.0.0.0:9187")
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(address: open, tokenFile: nil, insecureNoAuth: false)
        }
        #expect(try AccessPolicy(address: open, tokenFile: nil, insecureNoAuth: true).admits(authorization: nil))
        #expect(
            try AccessPolicy(address: try ListenAddress(parsing: "127.0.0.1:1"), tokenFile: nil, insecureNoAuth: false)
                .admits(authorization: nil)
        )
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(address: open, tokenFile: "/nonexistent/token", insecureNoAuth: false)
        }
    }

    @Test func theTokenMustMatchExactly() throws {
        let file = "/tmp/daybook-token-test-\(Int.random(in: 0...1_000_000))"
        try "0123456789abcdef-token\n".write(toFile: file, atomically: true, encoding: .utf8)
        let policy = try AccessPolicy(
            address: try ListenAddress(parsing: "0.0.0.0:1"),
            tokenFile: file,
            insecureNoAuth: false
        )
        #expect(policy.admits(authorization: "Bearer 0123456789abcdef-token"))
        #expect(!policy.admits(authorization: nil))
        #expect(!policy.admits(authorization: "0123456789abcdef-token"))
        #expect(!policy.admits(authorization: "Bearer 0123456789abcdef-toke"))
        #expect(!policy.admits(authorization: "Bearer 0123456789abcdef-token2"))
        #expect(!policy.admits(authorization: "Bearer 0123456789abcdef-tokeN"))
        #expect(!policy.admits(authorization: "Basic 0123456789abcdef-token"))
        // The scheme is case-insensitive (RFC 9110); the token is not.
        #expect(policy.admits(authorization: "bearer 0123456789abcdef-token"))
        #expect(policy.admits(authorization: "BEARER 0123456789abcdef-token"))
        #expect(!policy.admits(authorization: "bearer 0123456789ABCDEF-token"))
        // The token never prints: not in the policy's description, its debug description, or a dump.
        var dumped = ""
        dump(policy, to: &dumped)
        for printed in ["\(policy)", String(reflecting: policy), dumped, "\(String(describing: policy.token))"] {
            #expect(!printed.contains("0123456789abcdef"), "\(printed)")
            #expect(!printed.contains("48, 49, 50"), "\(printed)")
        }
        try "short".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: AccessPolicy.Refused.self) {
            try AccessPolicy(address: try ListenAddress(parsing: "0.0.0.0:1"), tokenFile: file, insecureNoAuth: false)
        }
    }
}
