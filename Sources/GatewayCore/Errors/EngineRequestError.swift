/// Engine.IO HTTP-level refusals, with the reference server's codes and messages (brief §1.10),
/// and the gateway's own handshake bounds (docs/security.md), which carry `Retry-After`.
public struct EngineRequestError: Error, Hashable, Sendable {
    public let code: Int
    public let message: String
    public let status: Int
    /// Seconds for a `Retry-After` header (busy and too-many refusals).
    public var retryAfterSeconds: Int?

    public init(code: Int, message: String, status: Int, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static let unknownTransport = EngineRequestError(code: 0, message: "Transport unknown", status: 400)
    public static let unknownSession = EngineRequestError(code: 1, message: "Session ID unknown", status: 400)
    public static let badHandshakeMethod = EngineRequestError(code: 2, message: "Bad handshake method", status: 400)
    public static let badRequest = EngineRequestError(code: 3, message: "Bad request", status: 400)
    public static let forbidden = EngineRequestError(code: 4, message: "Forbidden", status: 403)
    public static let unsupportedProtocolVersion = EngineRequestError(code: 5, message: "Unsupported protocol version", status: 400)

    /// The instance is at its session or handshake-rate bound: 503, try again later.
    public static func serverBusy(retryAfterSeconds: Int) -> EngineRequestError {
        EngineRequestError(code: 6, message: "Server busy; try again later", status: 503, retryAfterSeconds: retryAfterSeconds)
    }

    /// The client's address is at its session or handshake-rate bound: 429.
    public static func tooManyFromAddress(retryAfterSeconds: Int) -> EngineRequestError {
        EngineRequestError(code: 7, message: "Too many connections from your address", status: 429, retryAfterSeconds: retryAfterSeconds)
    }

    /// The JSON body of an error response: `{"code":N,"message":"…"}`.
    public var json: String { "{\"code\":\(code),\"message\":\"\(message)\"}" }
}
