import Foundation
import GatewayCore
import NIOCore

/// `server.*` and `limits.slowConsumerBytes`: the listener and the Engine.IO engine.
struct ServerConfiguration: Sendable {
    var host: String
    var port: Int
    var path: String
    /// The msgpack parser's path ("" = none).
    var msgpackPath: String
    /// nil: any origin (`*`).
    var allowedOrigins: [String]?
    var engine: EngineConfiguration
    var drainSeconds: Int
    /// 0: one per core.
    var eventLoopThreads: Int
    var flushIntervalMs: Int
    /// `server.compression.*`: permessage-deflate, polling gzip, threshold and level.
    var compression: CompressionSettings
    /// Connections the kernel queues before the gateway accepts them (capped by net.core.somaxconn).
    var listenBacklog: Int
    /// `server.tls.*`: nil for plain HTTP.
    var tls: TLSFilesConfiguration?
    /// With TLS: a plain-HTTP port for `/health*` and `/metrics` only (0: none), on `plainHost`.
    var plainPort: Int
    var plainHost: String
    /// The internal port (0: none): the producers' API, `/health*` and `/metrics` on an event
    /// loop of their own, so producers and scrapes never wait behind the fan-out; on
    /// `internalHost` (loopback unless set).
    var internalPort: Int
    var internalHost: String
    /// How often the TLS files are checked for changes (nil: on SIGHUP only).
    var tlsReloadCheck: Duration?
    /// `server.dashboard.*`: nil when the dashboard is off; else the folder it is served from
    /// ("" for the copy built into the binary).
    var dashboardDirectory: String?

    /// Checked again after `--port` overrides the port.
    var plainPortProblem: String? {
        plainPort != 0 && plainPort == port ? "must differ from the port the gateway listens on (\(port))" : nil
    }

    /// Checked again after `--port` overrides the port.
    var internalPortProblem: String? {
        guard internalPort != 0 else { return nil }
        if internalPort == port { return "must differ from the port the gateway listens on (\(port))" }
        if internalPort == plainPort { return "must differ from server.tls.plainPort (\(plainPort))" }
        return nil
    }

    struct TLSFilesConfiguration: Sendable, Equatable {
        var certificateFile: String
        var keyFile: String
    }

    init(reading reader: inout ConfigurationReader) {
        host = reader.string("server.host")
        port = reader.int("server.port", in: 1...65535)
        path = reader.string("server.path")
        msgpackPath = reader.string("server.msgpackPath")
        let cors = reader.list("server.corsOrigin")
        allowedOrigins = cors.contains("*") ? nil : cors
        var engine = EngineConfiguration(
            pingInterval: .milliseconds(Int64(reader.int("server.pingInterval", in: 50...3_600_000))),
            pingTimeout: .milliseconds(Int64(reader.int("server.pingTimeout", in: 50...3_600_000))),
            maxPayload: reader.int("server.maxPayload", in: 1024...100_000_000),
            upgradeTimeout: .milliseconds(Int64(reader.int("server.upgradeTimeout", in: 100...600_000))),
            connectTimeout: .milliseconds(Int64(reader.int("server.connectTimeout", in: 100...3_600_000))),
            slowConsumerBytes: reader.int("limits.slowConsumerBytes", in: 65_536...1_073_741_824),
            allowedOrigins: allowedOrigins
        )
        engine.socketSendBuffer = reader.int("server.socketSendBuffer", in: 0...67_108_864)
        engine.requestHeaderTimeout = .milliseconds(Int64(reader.int("server.requestHeaderTimeout", in: 100...600_000)))
        engine.idleTimeout = .milliseconds(Int64(reader.int("server.idleTimeout", in: 100...3_600_000)))
        engine.trustedProxies = Set(reader.list("server.trustedProxies"))
        engine.maxRequestHeadBytes = reader.int("server.maxRequestHeadBytes", in: 1024...81_920)
        engine.maxRequestTargetBytes = reader.int("server.maxRequestTargetBytes", in: 256...81_920)
        engine.admission = EngineAdmission.Limits(
            maxSessions: reader.int("limits.maxSessions", in: 1...10_000_000),
            maxSessionsPerAddress: reader.int("limits.maxSessionsPerIp", in: 1...1_000_000),
            handshakesPerSecond: reader.int("limits.handshakesPerSecond", in: 0...10_000_000),
            handshakesPerSecondPerAddress: reader.int("limits.handshakesPerSecondPerIp", in: 0...10_000_000)
        )
        engine.maxFailedConnects = reader.int("limits.maxFailedConnects", in: 1...1_000)
        engine.maxHTTPConnections = reader.int("server.maxHttpConnections", in: 16...1_000_000)
        engine.maxHTTPConnectionsPerAddress = reader.int("limits.maxHttpConnectionsPerIp", in: 1...1_000_000)
        engine.failedConnectsPerAddressPerMinute = reader.int("limits.failedConnectsPerIpPerMinute", in: 0...1_000_000)
        self.engine = engine
        drainSeconds = reader.int("server.drainSeconds", in: 0...600)
        eventLoopThreads = reader.int("server.eventLoopThreads", in: 0...256)
        flushIntervalMs = reader.int("server.flushInterval", in: 0...1000)
        listenBacklog = reader.int("server.listenBacklog", in: 16...65_535)
        compression = CompressionSettings(
            webSocket: reader.bool("server.compression.webSocket"),
            polling: reader.bool("server.compression.polling"),
            threshold: reader.int("server.compression.threshold", in: 0...100_000_000),
            level: reader.int("server.compression.level", in: 1...9)
        )
        let directory = reader.string("server.dashboard.directory")
        dashboardDirectory = reader.bool("server.dashboard.enabled") ? directory : nil
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory + "/index.html") {
            reader.problem("server.dashboard.directory", "no index.html in '\(directory)'")
        }
        let certificateFile = reader.string("server.tls.certificateFile")
        let keyFile = reader.string("server.tls.keyFile")
        plainPort = reader.int("server.tls.plainPort", in: 0...65535)
        internalPort = reader.int("server.internalPort", in: 0...65535)
        internalHost = reader.string("server.internalHost").nonEmpty ?? "127.0.0.1"
        plainHost = reader.string("server.tls.plainHost").nonEmpty ?? host
        let check = reader.int("server.tls.reloadCheckMs", in: 0...3_600_000)
        tlsReloadCheck = check == 0 ? nil : .milliseconds(check)
        switch (certificateFile.isEmpty, keyFile.isEmpty) {
        case (false, false): tls = TLSFilesConfiguration(certificateFile: certificateFile, keyFile: keyFile)
        case (true, true): tls = nil
        case (false, true): tls = nil; reader.problem("server.tls.keyFile", "TLS needs the key file too (server.tls.certificateFile is set)")
        case (true, false): tls = nil; reader.problem("server.tls.certificateFile", "TLS needs the certificate file too (server.tls.keyFile is set)")
        }
        if plainPort != 0, tls == nil { reader.problem("server.tls.plainPort", "only with TLS on (server.tls.certificateFile and keyFile)") }
        if let problem = plainPortProblem { reader.problem("server.tls.plainPort", problem) }
        if let problem = internalPortProblem { reader.problem("server.internalPort", problem) }
        if !path.hasPrefix("/") { reader.problem("server.path", "must start with /") }
        if !msgpackPath.isEmpty, !msgpackPath.hasPrefix("/") { reader.problem("server.msgpackPath", "must start with / (or be empty for none)") }
        func trimmed(_ text: String) -> Substring { text.hasSuffix("/") ? text.dropLast() : Substring(text) }
        if !msgpackPath.isEmpty, trimmed(msgpackPath).hasPrefix(trimmed(path) + "/") || trimmed(path).hasPrefix(trimmed(msgpackPath) + "/")
            || trimmed(msgpackPath) == trimmed(path)
        {
            reader.problem("server.msgpackPath", "must not lie under server.path (\(path)) nor contain it")
        }
        if cors.isEmpty { reader.problem("server.corsOrigin", "must be * or a comma-separated list of origins") }
    }
}
