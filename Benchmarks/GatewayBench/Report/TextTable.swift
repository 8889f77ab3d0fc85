/// A plain-text table: a header row, the first column left-aligned (what the row is), the
/// others right-aligned (numbers), two spaces between columns.
struct TextTable {
    var columns: [String]
    var rows: [[String]] = []

    var text: String {
        let widths = columns.indices.map { column in
            ([columns[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { column, cell in
                column == 0 ? cell.0.rightPadded(to: cell.1) : cell.0.leftPadded(to: cell.1)
            }.joined(separator: "  ")
        }
        return ([line(columns)] + rows.map(line)).joined(separator: "\n")
    }
}
