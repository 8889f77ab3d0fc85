/// Engine.IO HTTP-level refusals, with the reference server's codes and messages (brief §1.10).
public struct EngineRequestError: Error, Hashable, Sendable {
    public let code: Int
    public let message: String
    public let status: Int

    public static let unknownTransport = EngineRequestError(code: 0, message: "Transport unknown", status: 400)
    public static let unknownSession = EngineRequestError(code: 1, message: "Session ID unknown", status: 400)
    public static let badHandshakeMethod = EngineRequestError(code: 2, message: "Bad handshake method", status: 400)
    public static let badRequest = EngineRequestError(code: 3, message: "Bad request", status: 400)
    public static let forbidden = EngineRequestError(code: 4, message: "Forbidden", status: 403)
    public static let unsupportedProtocolVersion = EngineRequestError(code: 5, message: "Unsupported protocol version", status: 400)

    /// The JSON body of an error response: `{"code":N,"message":"…"}`.
    public var json: String { "{\"code\":\(code),\"message\":\"\(message)\"}" }
}
