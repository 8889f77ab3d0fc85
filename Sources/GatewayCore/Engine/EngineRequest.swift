/// What the edge tells the engine about one Engine.IO HTTP request, and the checks the reference
/// server makes on it, in its order: transport, Origin, sid, handshake method, EIO version.
public struct EngineRequest: Sendable {
    public enum Method: Sendable { case get, post, other }
    public enum Transport: String, Sendable { case polling, websocket }

    public var method: Method
    public var query: [String: String]
    public var origin: String?
    public var isWebSocketUpgrade: Bool

    public init(method: Method, query: [String: String], origin: String?, isWebSocketUpgrade: Bool) {
        self.method = method
        self.query = query
        self.origin = origin
        self.isWebSocketUpgrade = isWebSocketUpgrade
    }

    public var sid: String? { query["sid"] }

    /// What the request asks for once it passed validation.
    public enum Intent: Sendable, Equatable {
        case pollingHandshake
        case poll(sid: String)
        case post(sid: String)
        case webSocketHandshake
        case webSocketUpgrade(sid: String)
    }

    public func validate(_ configuration: EngineConfiguration) -> Result<Intent, EngineRequestError> {
        guard let transportName = query["transport"], let transport = Transport(rawValue: transportName),
            transport == .polling ? configuration.allowPolling : configuration.allowWebSocket
        else { return .failure(.unknownTransport) }
        guard configuration.allows(origin: origin) else { return .failure(.forbidden) }
        if transport == .websocket && !isWebSocketUpgrade { return .failure(.badRequest) }
        if let sid {
            switch transport {
            case .polling:
                switch method {
                case .get: return .success(.poll(sid: sid))
                case .post: return .success(.post(sid: sid))
                case .other: return .failure(.badRequest)
                }
            case .websocket:
                return .success(.webSocketUpgrade(sid: sid))
            }
        }
        guard method == .get else { return .failure(.badHandshakeMethod) }
        guard query["EIO"] == "4" else { return .failure(.unsupportedProtocolVersion) }
        return .success(transport == .polling ? .pollingHandshake : .webSocketHandshake)
    }
}
