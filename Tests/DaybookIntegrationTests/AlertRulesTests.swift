import Daybook
import Foundation
import Testing

/// The alert rules the project ships (`ops/prometheus/`): promtool accepts them, its unit tests
/// show each rule firing when it should and staying quiet otherwise, and every metric a rule
/// reads is one Daybook exports.
struct AlertRulesTests {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ops/prometheus")

    @Test func promtoolChecksTheRulesAndTheirUnitTestsPass() throws {
        let rules = Self.folder.appendingPathComponent("daybook-rules.yml").path
        let check = try runTool("promtool", ["check", "rules", rules])
        #expect(check.status == 0, "promtool check rules: \(check.output)")
        #expect(check.output.contains("SUCCESS: 9 rules found"), "\(check.output)")
        let tests = Self.folder.appendingPathComponent("daybook-rules.test.yml").path
        let run = try runTool("promtool", ["test", "rules", tests])
        #expect(run.status == 0, "promtool test rules: \(run.output)")
    }

    @Test func everyRuleHasAUnitTestAndReadsOnlyDaybooksMetrics() throws {
        let rules = try String(contentsOf: Self.folder.appendingPathComponent("daybook-rules.yml"), encoding: .utf8)
        let tests = try String(
            contentsOf: Self.folder.appendingPathComponent("daybook-rules.test.yml"),
            encoding: .utf8
        )
        let alerts = rules.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert: ") ? String(trimmed.dropFirst("- alert: ".count)) : nil
        }
        #expect(alerts.count == 9)
        for alert in alerts { #expect(tests.contains("alertname: \(alert)"), "\(alert) has no unit test") }
        let exported = Set(DaybookMetric.allCases.map(\.rawValue))
        let expressions = rules.split(separator: "\n").filter {
            $0.trimmingCharacters(in: .whitespaces).hasPrefix("expr:")
        }
        for expression in expressions {
            var rest = Substring(expression)
            while let range = rest.range(of: "daybook_") {
                let name = rest[range.lowerBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                #expect(exported.contains(String(name)), "\(name) is not a metric Daybook exports")
                rest = rest[name.endIndex...]
            }
        }
        // Each rule's runbook is a heading of the README.
        let readme = try String(
            contentsOf: Self.folder.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("README.md"),
            encoding: .utf8
        )
        for alert in alerts { #expect(readme.contains("#### \(alert)"), "the README has no runbook for \(alert)") }
    }
}
