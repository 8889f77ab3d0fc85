import GatewayTLS
import NIOSSL

/// Where a gateway listens: host, port, Engine.IO path and, for `https://` / `wss://`, the TLS
/// context to reach it with.
public struct GatewayEndpoint: Sendable {
    public let host: String
    public let port: Int
    public let path: String
    /// nil: plain TCP.
    let tls: NIOSSLContext?

    public var isSecure: Bool { tls != nil }

    /// `url`: `http://host:port`, `ws://host:port`, or over TLS `https://…` / `wss://…`, checked
    /// against the system's trust store or the CA certificates in `caFile` (PEM).
    public init(url: String, path: String = "/socket.io/", caFile: String? = nil) throws(GatewayClientError) {
        var rest = Substring(url)
        var secure = false
        var matched = false
        for (scheme, isSecure) in [("http://", false), ("ws://", false), ("https://", true), ("wss://", true)] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            secure = isSecure
            matched = true
        }
        guard matched || !rest.contains("://") else { throw .invalidURL("expected an http://, https://, ws:// or wss:// URL, got \(url)") }
        let hostPort = rest.split(separator: "/").first ?? ""
        let parts = hostPort.split(separator: ":")
        guard let first = parts.first, !first.isEmpty else { throw .invalidURL("no host in \(url)") }
        host = String(first)
        if parts.count > 1 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else { throw .invalidURL("bad port in \(url)") }
            self.port = port
        } else {
            port = secure ? 443 : 80
        }
        self.path = path
        if secure {
            do throws(TLSFileError) {
                tls = try ClientTLS(caFile: caFile, keys: ("--ca-file", "", "")).makeContext()
            } catch {
                throw .tls(error.description)
            }
        } else {
            guard caFile == nil else { throw .invalidURL("a CA file is for https:// and wss:// URLs") }
            tls = nil
        }
    }
}
