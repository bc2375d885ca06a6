import DaybookCore
import Foundation

/// The dashboard's charts as inline SVG, drawn by the server: they need no script and no
/// library, show with JavaScript off, and use presentation attributes only (the content
/// security policy allows no inline styles).
enum DashboardCharts {
    /// Colours for tables, in order of first appearance; readable on white and on dark.
    static let palette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    struct Day {
        var label: String
        var status: String
        var closedBy: String?
        var counts: [(table: String, count: Int)]
    }

    /// Stacked bars of changes per table per window; an open window's bar is hatched by
    /// its outline, and each bar's tooltip says its state and what closed it.
    static func days(_ days: [Day], tables: [String]) -> String {
        guard !days.isEmpty else { return "<p class=\"empty\">No windows yet.</p>" }
        let width = 720.0
        let height = 200.0
        let top = 10.0
        let bottom = 30.0
        let maximum = max(1, days.map { $0.counts.reduce(0) { $0 + $1.count } }.max() ?? 1)
        let slot = width / Double(days.count)
        // Days are told apart by their date; shorter windows of one day by their time.
        let oneDate = Set(days.map { $0.label.prefix(10) }).count == 1
        func axisLabel(_ label: String) -> String {
            oneDate && label.count >= 19 ? String(label.dropFirst(11).prefix(8)) : String(label.prefix(10))
        }
        let barWidth = max(2, slot * 0.7)
        var svg =
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"changes per window and table\">"
        svg +=
            "<line x1=\"0\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#888\" stroke-width=\"1\"/>"
        // The scale: the largest window's changes at the top, half of it, and zero.
        svg += "<text x=\"2\" y=\"\(top + 8)\" font-size=\"10\" fill=\"#888\">\(maximum) changes</text>"
        svg +=
            "<text x=\"2\" y=\"\(format(top + (height - top - bottom) / 2 + 4))\" font-size=\"10\" fill=\"#888\">\(maximum / 2)</text>"
        svg += "<text x=\"2\" y=\"\(height - bottom - 2)\" font-size=\"10\" fill=\"#888\">0</text>"
        for (index, day) in days.enumerated() {
            let x = Double(index) * slot + (slot - barWidth) / 2
            var y = height - bottom
            let total = day.counts.reduce(0) { $0 + $1.count }
            let state = day.status == "closed" ? "closed by \(day.closedBy ?? "?")" : day.status
            svg += "<g><title>\(HTML.escape("\(day.label): \(total) changes, \(state)"))</title>"
            for (table, count) in day.counts where count > 0 {
                let barHeight = Double(count) / Double(maximum) * (height - top - bottom)
                y -= barHeight
                let colour = palette[(tables.firstIndex(of: table) ?? 0) % palette.count]
                svg +=
                    "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(barWidth))\" height=\"\(format(barHeight))\" fill=\"\(colour)\"/>"
            }
            if day.status != "closed" {
                svg +=
                    "<rect x=\"\(format(x))\" y=\"\(format(top))\" width=\"\(format(barWidth))\" height=\"\(format(height - top - bottom))\" fill=\"none\" stroke=\"#888\" stroke-dasharray=\"3 2\"/>"
            }
            svg += "</g>"
            if index % max(1, days.count / 8) == 0 {
                svg +=
                    "<text x=\"\(format(x))\" y=\"\(height - bottom + 14)\" font-size=\"10\" fill=\"#888\">\(HTML.escape(axisLabel(day.label)))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// The slot's lag in seconds over the samples' time, as a line.
    static func lag(_ samples: [(time: Double, seconds: Double, bytes: Double)]) -> String {
        guard samples.count >= 2, let first = samples.first?.time, let last = samples.last?.time, last > first else {
            return "<p class=\"empty\">Not enough samples yet (one every 10 s).</p>"
        }
        let width = 720.0
        let height = 120.0
        let top = 10.0
        let bottom = 20.0
        let maximum = max(1, samples.map(\.seconds).max() ?? 1)
        let points = samples.map { sample in
            let x = (sample.time - first) / (last - first) * width
            let y = height - bottom - sample.seconds / maximum * (height - top - bottom)
            return "\(format(x)),\(format(y))"
        }.joined(separator: " ")
        var svg =
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"slot lag in seconds\">"
        svg +=
            "<line x1=\"0\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#888\" stroke-width=\"1\"/>"
        svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#4e79a7\" stroke-width=\"2\"/>"
        svg += "<text x=\"2\" y=\"\(top + 8)\" font-size=\"10\" fill=\"#888\">\(format(maximum)) s</text>"
        svg +=
            "<text x=\"2\" y=\"\(height - 4)\" font-size=\"10\" fill=\"#888\">\(HumanDuration.text(seconds: last - first)) ago</text>"
        svg += "<text x=\"\(width - 30)\" y=\"\(height - 4)\" font-size=\"10\" fill=\"#888\">now</text>"
        return svg + "</svg>"
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
