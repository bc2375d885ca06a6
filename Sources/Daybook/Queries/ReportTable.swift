import DaybookCore

/// Rows of a report with typed columns, ready for any output format.
public struct ReportTable: Sendable {
    public struct Column: Sendable {
        public enum Kind: Sendable { case text, number, json }
        public var name: String
        public var kind: Kind
        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }
    }

    public var columns: [Column]
    public var rows: [[String?]]

    public init(columns: [Column], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The rows as dictionaries, column name to value (for tests and callers that filter).
    public var records: [[String: String]] {
        rows.map { row in
            var record: [String: String] = [:]
            for (index, column) in columns.enumerated() { if let value = row[index] { record[column.name] = value } }
            return record
        }
    }
}

/// Output formats of `daybook report`; all carry the same facts.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, csv, markdown

    /// The file name extension for saved reports.
    public var fileExtension: String {
        switch self {
        case .text: "txt"
        case .json: "jsonl"
        case .csv: "csv"
        case .markdown: "md"
        }
    }

    /// Whether the format is for people (notices go with it) rather than for programs
    /// (notices go to stderr, so the output stays parseable).
    public var isForPeople: Bool { self == .text || self == .markdown }

    /// Renders `table`: JSON is one object per line, CSV has a header row, text is aligned.
    public func render(_ table: ReportTable) -> String {
        switch self {
        case .json: Self.json(table)
        case .csv: Self.csv(table)
        case .text: Self.text(table)
        case .markdown: Self.markdown(table)
        }
    }

    private static func markdown(_ table: ReportTable) -> String {
        func cell(_ value: String?) -> String {
            (value ?? "").replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var output = "| " + table.columns.map(\.name).joined(separator: " | ") + " |\n"
        output += "|" + table.columns.map { $0.kind == .number ? " ---: |" : " --- |" }.joined() + "\n"
        for row in table.rows { output += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return output
    }

    private static func json(_ table: ReportTable) -> String {
        var output = ""
        for row in table.rows {
            output.append("{")
            for (index, column) in table.columns.enumerated() {
                if index > 0 { output.append(",") }
                JSONText.appendString(column.name, to: &output)
                output.append(":")
                guard let value = row[index] else {
                    output.append("null")
                    continue
                }
                switch column.kind {
                case .text: JSONText.appendString(value, to: &output)
                case .number: output.append(value)
                case .json: output.append(JSONText.compact(value))
                }
            }
            output.append("}\n")
        }
        return output
    }

    private static func csv(_ table: ReportTable) -> String {
        func field(_ value: String?) -> String {
            guard let value else { return "" }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
            return "\"" + value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"")
                + "\""
        }
        var output = table.columns.map(\.name).joined(separator: ",") + "\n"
        for row in table.rows { output += row.map(field).joined(separator: ",") + "\n" }
        return output
    }

    private static func text(_ table: ReportTable) -> String {
        let header = table.columns.map(\.name)
        let cells = table.rows.map { $0.map { $0 ?? "" } }
        var widths = header.map(\.count)
        for row in cells { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ values: [String]) -> String {
            values.enumerated().map { index, value in
                let padding = String(repeating: " ", count: widths[index] - value.count)
                return table.columns[index].kind == .number ? padding + value : value + padding
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        var output = line(header)
        output += line(widths.map { String(repeating: "-", count: $0) })
        for row in cells { output += line(row) }
        return output
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }

    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
