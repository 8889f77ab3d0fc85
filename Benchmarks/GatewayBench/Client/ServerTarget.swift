import Foundation
import NIOCore

/// One `--url`: http:// or ws:// (plain), https:// or wss:// (TLS), a host and port, and the
/// Engine.IO path (`/socket.io/` when the URL has none). The address is resolved once.
struct ServerTarget: Sendable {
    let host: String
    let port: Int
    let tls: Bool
    /// The URL's path; empty when it named none.
    let path: String
    let address: SocketAddress

    init(_ text: String) throws(UsageError) {
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { throw UsageError("--url \(text): expected http://host:port (or https://, ws://, wss://)") }
        guard ["http", "https", "ws", "wss"].contains(scheme) else {
            throw UsageError("--url \(text): the scheme must be http, https, ws or wss")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        tls = scheme == "https" || scheme == "wss"
        port = components.port ?? (tls ? 443 : 80)
        path = components.path == "/" ? "" : components.path
        do {
            address = try SocketAddress.makeAddressResolvingHost(self.host, port: port)
        } catch {
            throw UsageError("--url \(text): cannot resolve \(self.host) (\(error))")
        }
    }

    /// The Socket.IO endpoint as clients open it over WebSocket.
    var engineIOPath: String { (path.isEmpty ? "/socket.io/" : path) + "?EIO=4&transport=websocket" }

    /// For a plain WebSocket server: the URL's own path.
    var rawPath: String { path.isEmpty ? "/" : path }

    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// How the reports name it.
    var display: String { "\(tls ? "https" : "http")://\(hostHeader)\(path)" }
}

/// A command-line mistake found before any client starts (exit code 64, with usage).
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The run could not do what it was asked (exit code 1): the server is not there, refuses
/// every client, or refuses the ticks.
struct RunFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
