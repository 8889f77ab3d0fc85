import GatewayJSON

/// The `book` result: depth messages per second through the book path, with and without
/// validating them from JSON text first, against validating them alone.
struct BookReport: BenchReport {
    var messages: Int
    /// Best of three, for all messages.
    var parseSeconds: Double
    var bookSeconds: Double
    var parseAndBookSeconds: Double
    /// The book path keeping a depth-10 view, and views of 10, 50 and 200 levels, up to date.
    var bookWithDepth10Seconds: Double
    var bookWithThreeViewsSeconds: Double

    var parsePerSecond: Double { Double(messages) / parseSeconds }
    var bookPerSecond: Double { Double(messages) / bookSeconds }
    var parseAndBookPerSecond: Double { Double(messages) / parseAndBookSeconds }
    var ratio: Double { parseSeconds / bookSeconds }
    var depth10PerSecond: Double { Double(messages) / bookWithDepth10Seconds }
    var threeViewsPerSecond: Double { Double(messages) / bookWithThreeViewsSeconds }

    var json: JSONValue {
        .object([
            "scenario": "book", "messages": .int(messages), "parse_per_s": .rounded(parsePerSecond, places: 0),
            "book_per_s": .rounded(bookPerSecond, places: 0), "parse_and_book_per_s": .rounded(parseAndBookPerSecond, places: 0),
            "ratio": .rounded(ratio), "book_with_depth10_view_per_s": .rounded(depth10PerSecond, places: 0),
            "book_with_three_views_per_s": .rounded(threeViewsPerSecond, places: 0),
        ])
    }

    var table: String {
        var table = TextTable(columns: ["path", "messages/s"])
        table.rows = [
            ["parse baseline", parsePerSecond.grouped], ["book path", bookPerSecond.grouped],
            ["parse + book path", parseAndBookPerSecond.grouped],
            ["book path + depth-10 view", depth10PerSecond.grouped],
            ["book path + views 10, 50, 200", threeViewsPerSecond.grouped],
        ]
        return "book: \(messages.grouped) simulator depth messages on one core\n" + table.text
            + "\nratio (book/parse): " + String(format: "%.2f", ratio)
            + "\nbook path with views / without: depth 10 " + String(format: "%.2f", bookSeconds / bookWithDepth10Seconds)
            + ", three views " + String(format: "%.2f", bookSeconds / bookWithThreeViewsSeconds)
    }
}
