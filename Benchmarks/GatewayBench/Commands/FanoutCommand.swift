import ArgumentParser

/// `gateway-bench fanout`: how many messages a second reach subscribers, and how late.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Fan-out: subscribers on /prices (or the echo app's room), then deliveries per second and latency per step.",
        discussion: """
            Latency is the subscriber's clock against the message's send time: its "ts" (ms since \
            the epoch, as the gateway's feed and --ticks post write it) or, for echo and raw, this \
            tool's own monotonic stamp. Messages without either are counted, not timed.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var symbols: SymbolChoice
    @OptionGroup var fanout: FanoutOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let launcher = try client.launcher(defaults: fanout.defaults, symbols: symbols.list, perClient: symbols.perClient)
        try await FanoutRun.run(scenario: "fanout", launcher: launcher, client: client, fanout: fanout, output: output)
    }
}

/// `fanout` and `symbols` run the same way.
enum FanoutRun {
    static func run(scenario: String, launcher: ClientLauncher, client: ClientOptions, fanout: FanoutOptions, output: OutputOptions) async throws {
        let script = launcher.script
        let report = FanoutReport(
            scenario: scenario, label: output.label, urls: launcher.targets.map(\.display), namespace: script.namespace,
            event: script.event, ticks: fanout.ticks.rawValue, threads: client.threads, subscribers: fanout.subscribers,
            symbols: script.symbols.count, perClient: min(script.perClient, script.symbols.count)
        )
        _ = try await BenchRun.run(launcher: launcher, threads: client.threads, output: output) { loops, progress in
            try await FanoutScenario.run(plan: fanout.plan(), launcher: launcher, loops: loops, progress: progress, report: report)
        }
    }
}
