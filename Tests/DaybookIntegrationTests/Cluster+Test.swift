import DaybookTestSupport
import Foundation

extension Cluster {
    /// A throwaway server of the test's own (Debian's PostgreSQL, through the project's
    /// `scripts/throwaway-postgres`), for a test that crashes it: a sink that goes away while the
    /// test server stays up. The caller removes it (`defer { cluster.remove() }`).
    static func forTest(_ name: String) throws -> Cluster {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try Cluster(
            name: name,
            script: root.appendingPathComponent("scripts/throwaway-postgres").path,
            workDirectory: NSTemporaryDirectory(),
            extraConfiguration: "",
            prefix: "daybook-test"
        )
    }
}
