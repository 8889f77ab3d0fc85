import ArgumentParser

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration (file + environment); exit non-zero naming each bad key."
    )

    @Option(name: .long, help: "Configuration file (default config/gateway.yaml).")
    var config: String?

    func run() throws {
        do {
            let loaded = try ConfigurationLoader.load(path: config)
            print("configuration ok: listening on \(loaded.server.host):\(loaded.server.port)\(loaded.server.path)")
        } catch let error as ConfigurationError {
            print(error.description)
            throw ExitCode(2)
        }
    }
}
