import ArgumentParser
import Foundation

/// `gateway-bench symbols`: fan-out over many symbols, each client watching a few of them.
struct SymbolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symbols",
        abstract: "Many-symbol mix: each subscriber watches --per-client of --symbol-count symbols; ticks from the server or POSTed over all of them.",
        discussion: """
            The generated symbols are S0000/USDT, S0001/USDT, …: the gateway must know them \
            (feed.symbols, or "*" to learn them from the feed). With --ticks post they are ticked \
            round-robin.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var fanout: FanoutOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Symbols S0000/USDT … to spread the subscriptions over.") var symbolCount: Int = 100
    @Option(help: "The symbols themselves, comma separated, instead of --symbol-count generated ones.") var symbols: String?
    @Option(help: "Symbols each client subscribes to.") var perClient: Int = 5

    func validate() throws {
        guard fanout.ticks == .server || fanout.ticks == .post else { throw ValidationError("symbols: --ticks must be server or post") }
        guard symbolCount > 0, perClient > 0 else { throw ValidationError("--symbol-count and --per-client must be positive") }
    }

    func run() async throws {
        let list = symbols?.split(separator: ",").map(String.init) ?? (0..<symbolCount).map { String(format: "S%04d/USDT", $0) }
        let launcher = try client.launcher(defaults: fanout.defaults, symbols: list, perClient: perClient)
        try await FanoutRun.run(scenario: "symbols", launcher: launcher, client: client, fanout: fanout, output: output)
    }
}
