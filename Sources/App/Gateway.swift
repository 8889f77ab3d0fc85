import ArgumentParser

/// The `gateway` command: `serve`, `check-config`.
@main
struct Gateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Socket.IO-compatible realtime gateway for crypto-trading platforms.",
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
