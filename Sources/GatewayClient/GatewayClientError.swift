import GatewayJSON

/// The error codes of the gateway's contract (SPEC §2, §3), as the client sees them in a
/// CONNECT_ERROR, a refused ack or an `error` event.
public enum GatewayErrorCode: Sendable, Hashable, CustomStringConvertible {
    case unauthorized, tokenExpired, forbidden, connectionLimit, maintenance
    case invalidPayload, unknownEvent, unknownSymbol, unknownChannel, subscriptionLimit, rateLimit
    /// A code this version of the client does not know (kept as sent).
    case other(String)

    public init(_ code: String) {
        switch code {
        case "UNAUTHORIZED": self = .unauthorized
        case "TOKEN_EXPIRED": self = .tokenExpired
        case "FORBIDDEN": self = .forbidden
        case "CONNECTION_LIMIT": self = .connectionLimit
        case "MAINTENANCE": self = .maintenance
        case "INVALID_PAYLOAD": self = .invalidPayload
        case "UNKNOWN_EVENT": self = .unknownEvent
        case "UNKNOWN_SYMBOL": self = .unknownSymbol
        case "UNKNOWN_CHANNEL": self = .unknownChannel
        case "SUBSCRIPTION_LIMIT": self = .subscriptionLimit
        case "RATE_LIMIT": self = .rateLimit
        default: self = .other(code)
        }
    }

    /// The code as the gateway writes it.
    public var description: String {
        switch self {
        case .unauthorized: "UNAUTHORIZED"
        case .tokenExpired: "TOKEN_EXPIRED"
        case .forbidden: "FORBIDDEN"
        case .connectionLimit: "CONNECTION_LIMIT"
        case .maintenance: "MAINTENANCE"
        case .invalidPayload: "INVALID_PAYLOAD"
        case .unknownEvent: "UNKNOWN_EVENT"
        case .unknownSymbol: "UNKNOWN_SYMBOL"
        case .unknownChannel: "UNKNOWN_CHANNEL"
        case .subscriptionLimit: "SUBSCRIPTION_LIMIT"
        case .rateLimit: "RATE_LIMIT"
        case .other(let code): code
        }
    }
}

/// What can go wrong between the client and a gateway.
public enum GatewayClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL cannot name a gateway.
    case invalidURL(String)
    /// TLS could not be set up or the handshake failed (untrusted certificate, wrong host…).
    case tls(String)
    /// The gateway could not be reached, or refused the WebSocket.
    case connectionFailed(String)
    /// No connection within the connect timeout (the last attempt's problem attached).
    case notConnected(String)
    /// The gateway refused to let this client into a namespace (CONNECT_ERROR).
    case connectRefused(namespace: String, code: GatewayErrorCode, message: String)
    /// The gateway answered a request with `{"ok":false,"error":{…}}`.
    case refused(code: GatewayErrorCode, message: String, retryAfterMs: Int?)
    /// No answer within the request timeout.
    case timeout(String)
    /// The connection ended before the answer came.
    case disconnected
    /// The client was closed.
    case closed
    /// The gateway sent something the client cannot read.
    case protocolViolation(String)
    /// ``GatewayClient/requireFresh(_:maxSilence:)``: the symbol's data is not fit to act on now
    /// (its feed is silent, its book is incomplete, or nothing was heard of it lately).
    case notFresh(symbol: String, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let text): "invalid URL: \(text)"
        case .tls(let text): "TLS failed: \(text)"
        case .connectionFailed(let text): "connection failed: \(text)"
        case .notConnected(let text): "not connected: \(text)"
        case .connectRefused(let namespace, let code, let message): "connection to \(namespace) refused: \(message) (\(code))"
        case .refused(let code, let message, let retry): "refused: \(message) (\(code))" + (retry.map { ", retry after \($0) ms" } ?? "")
        case .timeout(let what): "no answer in time: \(what)"
        case .disconnected: "the connection ended before the answer came"
        case .closed: "the client is closed"
        case .protocolViolation(let text): "unexpected data from the gateway: \(text)"
        case .notFresh(let symbol, let reason): "\(symbol) is not fresh: \(reason)"
        }
    }

    /// The gateway's error code, for errors that carry one.
    public var code: GatewayErrorCode? {
        switch self {
        case .connectRefused(_, let code, _), .refused(let code, _, _): code
        default: nil
        }
    }

    /// `{"ok":false,"error":{"code","message","retryAfterMs"?}}` → `.refused`; nil for a success.
    static func refusal(in ack: JSONValue) -> GatewayClientError? {
        guard ack["ok"] == .bool(false) else { return nil }
        let error = ack["error"]
        return .refused(
            code: GatewayErrorCode(error?["code"]?.stringValue ?? "UNKNOWN"),
            message: error?["message"]?.stringValue ?? "refused",
            retryAfterMs: error?["retryAfterMs"]?.intValue
        )
    }
}
