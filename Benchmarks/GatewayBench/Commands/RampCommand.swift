import ArgumentParser

/// `gateway-bench ramp`: how fast clients get connected and subscribed.
struct RampCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ramp",
        abstract: "Connection ramp: clients connect, join the namespace and emit the event with an ack, at most --in-flight at a time.",
        discussion: """
            Reports connections per second, connect → ack latency percentiles and errors by kind. \
            With --waves N, every client leaves after each wave (the socket closed, no close frame, \
            as when a client process exits) and the next wave starts at once; --server-pid adds the \
            server's RSS and open descriptors after each wave and after it left.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var symbols: SymbolChoice
    @OptionGroup var output: OutputOptions

    @Option(help: "Clients per wave.") var clients: Int = 1000
    @Option(help: "Handshakes in flight at once.") var inFlight: Int = 1000
    @Option(help: "Waves of --clients clients; each leaves before the next starts.") var waves: Int = 1
    @Option(help: "The server's process id, when it runs on this machine: its RSS and descriptors.") var serverPid: Int?

    func validate() throws {
        guard clients > 0, inFlight > 0, waves > 0 else { throw ValidationError("--clients, --in-flight and --waves must be at least 1") }
    }

    func run() async throws {
        let launcher = try client.launcher(defaults: .init(), symbols: symbols.list, perClient: symbols.perClient)
        let report = RampReport(
            label: output.label, urls: launcher.targets.map(\.display), namespace: launcher.script.namespace,
            event: launcher.script.event, threads: client.threads, clients: clients, inFlight: inFlight
        )
        let result = try await BenchRun.run(launcher: launcher, threads: client.threads, output: output) { loops, progress in
            try await RampScenario.run(
                plan: .init(clients: clients, inFlight: inFlight, waves: waves, serverPID: serverPid),
                launcher: launcher, loops: loops, progress: progress, report: report
            )
        }
        if result.connected == 0 { throw RunFailure("no client got to its ack: \(result.firstError ?? "no error recorded")") }
    }
}
