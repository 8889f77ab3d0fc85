import Foundation

/// Reads the YAML file (when present) and the process environment into a configuration.
enum ConfigurationLoader {
    static let defaultPath = "config/gateway.yaml"

    static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewayConfiguration {
        let file = path ?? defaultPath
        var yaml: String?
        if FileManager.default.fileExists(atPath: file) {
            yaml = try String(contentsOfFile: file, encoding: .utf8)
        } else if path != nil {
            throw ConfigurationError(problems: ["\(file): no such configuration file"])
        }
        return try GatewayConfiguration(source: ConfigurationSource(yaml: yaml, fileName: file, environment: environment))
    }
}
