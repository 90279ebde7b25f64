/// A plain-text table, the one every command prints: each column as wide as
/// its widest cell (or its minimum width), two spaces between columns,
/// numbers right-aligned, no trailing spaces.
public struct TextTable: Sendable {
    /// The header line; nil for a table without one.
    public var headers: [String]?
    /// Columns to right-align (numbers).
    public var rightAligned: Set<Int>
    /// Widths a column keeps even when its cells are narrower (so that a
    /// table keeps its shape whatever the rows); missing entries are 0.
    public var minimumWidths: [Int]
    /// Put before every line ("  " under a report's summary line).
    public var indent: String
    public var rows: [[String]] = []

    public init(headers: [String]?, rightAligned: Set<Int> = [], minimumWidths: [Int] = [], indent: String = "") {
        self.headers = headers
        self.rightAligned = rightAligned
        self.minimumWidths = minimumWidths
        self.indent = indent
    }

    /// The lines, each ending with a newline.
    public var text: String {
        let lines = (headers.map { [$0] } ?? []) + rows
        var widths = minimumWidths
        for line in lines {
            if widths.count < line.count { widths += Array(repeating: 0, count: line.count - widths.count) }
            for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for cells in lines {
            var line = indent
            for (i, cell) in cells.enumerated() {
                if i > 0 { line += "  " }
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                line += rightAligned.contains(i) ? pad + cell : cell + pad
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
