import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Why one client did not get to its ack (or lost its connection afterwards), by kind: the
/// kinds are the keys of `error_kinds` in the JSON output.
enum ClientFailure: Error, CustomStringConvertible {
    /// Nothing accepts TCP connections there (or it cannot be reached).
    case refused
    /// No answer within `--timeout`.
    case timedOut(waitingFor: String)
    /// The HTTP upgrade got another status than 101.
    case upgrade(status: String)
    /// The namespace CONNECT got CONNECT_ERROR.
    case namespace(packet: String)
    /// The ack's first argument said `"ok": false`.
    case ack(packet: String)
    /// The server closed the connection before the ack.
    case closed(waitingFor: String)
    /// A connection that was ready and then closed by the server.
    case dropped
    case tls(String)
    case other(String)

    init(_ error: any Error) {
        switch error {
        case let failure as ClientFailure: self = failure
        case ChannelError.connectTimeout: self = .timedOut(waitingFor: "the TCP connection")
        case is NIOConnectionError: self = .refused
        case let error as IOError where [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode): self = .refused
        default:
            let text = String(describing: error)
            self = String(describing: type(of: error)).contains("SSL") ? .tls(text) : .other(text)
        }
    }

    var kind: String {
        switch self {
        case .refused: "refused"
        case .timedOut: "timeout"
        case .upgrade: "upgrade"
        case .namespace: "namespace"
        case .ack: "ack"
        case .closed: "closed"
        case .dropped: "dropped"
        case .tls: "tls"
        case .other: "other"
        }
    }

    var description: String {
        switch self {
        case .refused: "connection refused (is the server listening there?)"
        case .timedOut(let awaited): "timed out waiting for \(awaited)"
        case .upgrade(let status): "the WebSocket upgrade was refused: \(status)"
        case .namespace(let packet): "the namespace refused the client: \(packet.prefix(300))"
        case .ack(let packet): "the request was refused: \(packet.prefix(300))"
        case .closed(let awaited): "the server closed the connection while the client waited for \(awaited)"
        case .dropped: "the server closed a ready connection"
        case .tls(let reason): "TLS: \(reason)"
        case .other(let reason): reason
        }
    }
}
