import GatewayJSON

/// The `book` result: depth messages per second through the book path, with and without
/// validating them from JSON text first, against validating them alone.
struct BookReport: BenchReport {
    var messages: Int
    /// Best of three, for all messages.
    var parseSeconds: Double
    var bookSeconds: Double
    var parseAndBookSeconds: Double

    var parsePerSecond: Double { Double(messages) / parseSeconds }
    var bookPerSecond: Double { Double(messages) / bookSeconds }
    var parseAndBookPerSecond: Double { Double(messages) / parseAndBookSeconds }
    var ratio: Double { parseSeconds / bookSeconds }

    var json: JSONValue {
        .object([
            "scenario": "book", "messages": .int(messages), "parse_per_s": .rounded(parsePerSecond, places: 0),
            "book_per_s": .rounded(bookPerSecond, places: 0), "parse_and_book_per_s": .rounded(parseAndBookPerSecond, places: 0),
            "ratio": .rounded(ratio),
        ])
    }

    var table: String {
        var table = TextTable(columns: ["path", "messages/s"])
        table.rows = [
            ["parse baseline", parsePerSecond.grouped], ["book path", bookPerSecond.grouped],
            ["parse + book path", parseAndBookPerSecond.grouped],
        ]
        return "book: \(messages.grouped) simulator depth messages on one core\n" + table.text
            + "\nratio (book/parse): " + String(format: "%.2f", ratio)
    }
}
