import ArgumentParser

/// `gateway-bench book`: the order-book path's cost, in process.
struct BookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book",
        abstract: "The gateway's order-book path on one core, in process (no server): deltas applied, checksummed and encoded per second, against validating the same messages."
    )

    @Flag(help: "Print the result as one JSON object instead of the table.") var json = false

    func run() throws {
        try BookBench.run().emit(asJSON: json)
    }
}
