import ArgumentParser
import GatewayTLS

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
            if let files = loaded.server.tls {
                // The same check start-up makes: readable, PEM, the key matches, not expired.
                do throws(TLSFileError) {
                    _ = try ServerTLS(certificateFile: files.certificateFile, keyFile: files.keyFile)
                } catch {
                    throw ConfigurationError(problems: [error.description])
                }
            }
            let scheme = loaded.server.tls == nil ? "http" : "https"
            print("configuration ok: listening on \(scheme)://\(loaded.server.host):\(loaded.server.port)\(loaded.server.path)")
        } catch let error as ConfigurationError {
            print(error.description)
            throw ExitCode(2)
        }
    }
}
