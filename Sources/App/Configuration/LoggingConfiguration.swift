import Logging

/// `logging.*`.
struct LoggingConfiguration: Sendable {
    enum Format: String, Sendable { case text, json }

    var level: Logger.Level
    var format: Format

    init(reading reader: inout ConfigurationReader) {
        level = reader.choice("logging.level", Logger.Level.allCases.map(\.rawValue)).flatMap(Logger.Level.init(rawValue:)) ?? .info
        format = reader.choice("logging.format", ["text", "json"]).flatMap(Format.init(rawValue:)) ?? .text
    }
}
