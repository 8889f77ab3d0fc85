import ArgumentParser

/// `gateway-bench`: load scenarios against a Socket.IO v5 server (this gateway or another),
/// one subcommand each. A progress line a second on stderr, a table (or `--json`) on stdout.
@main
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench",
        abstract: "Load scenarios against a Socket.IO v5 server: connection ramp, fan-out, many symbols.",
        discussion: """
            Clients speak Socket.IO v5 over Engine.IO v4 WebSockets (no polling). Each one joins \
            --namespace and emits --event with --payload and an ack id; it counts as connected at \
            the ack. Another server works if it acks that event (any ack; one whose first \
            argument has "ok": false counts as an error); "--event ''" only joins the namespace.

            Progress: one line a second on stderr (--quiet: none). Result: a table on stdout, or \
            one JSON object with --json. Exit status 1 when no client can get through (the first \
            client to each server is tried before the load starts).
            """,
        subcommands: [RampCommand.self, FanoutCommand.self, SymbolsCommand.self, BookCommand.self, LocksCommand.self]
    )
}
