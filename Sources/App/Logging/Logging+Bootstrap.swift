import Logging

enum LoggingBootstrap {
    /// Installs the process-wide log handler once, at start-up (never in tests).
    static func bootstrap(level: Logger.Level, format: LoggingConfiguration.Format) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}
