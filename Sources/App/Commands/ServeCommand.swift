import ArgumentParser
import Foundation
import GatewayCore
import GatewayMetrics
import GatewayServer
import Hummingbird
import Logging
import Namespaces
import NIOCore
import NIOPosix
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway.")

    @Option(name: .long, help: "Configuration file (default config/gateway.yaml).")
    var config: String?

    @Option(name: .long, help: "Port (overrides server.port and WS_PORT).")
    var port: Int?

    func run() async throws {
        var configuration: GatewayConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
        if let port { configuration.server.port = port }
        if let problem = configuration.server.plainPortProblem {
            FileHandle.standardError.write(Data((ConfigurationError(problems: ["server.tls.plainPort = '\(configuration.server.plainPort)': \(problem)"]).description + "\n").utf8))
            throw ExitCode(2)
        }
        if let problem = configuration.server.internalPortProblem {
            FileHandle.standardError.write(Data((ConfigurationError(problems: ["server.internalPort = '\(configuration.server.internalPort)': \(problem)"]).description + "\n").utf8))
            throw ExitCode(2)
        }
        LoggingBootstrap.bootstrap(level: configuration.logging.level, format: configuration.logging.format)
        let logger = Logger(label: "gateway")
        MallocTuning.apply(logger: logger)
        do {
            try await GatewayApplication(configuration: configuration, logger: logger).run()
        } catch let error as ConfigurationError {
            // Files named by the configuration (TLS, replay) that turn out unusable at start-up.
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
    }
}
