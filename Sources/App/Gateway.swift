import ArgumentParser

/// The `gateway` command: `serve`, `token`, `check-config`, `admin`, `watch`.
@main
struct Gateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Socket.IO-compatible realtime gateway for crypto-trading platforms.",
        subcommands: [ServeCommand.self, TokenCommand.self, CheckConfigCommand.self, AdminCommand.self, WatchCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
