import GatewayJSON

/// An error a client event gets back (SPEC §3): a stable code and a message written for the user.
public struct ClientError: Error, Sendable, Hashable {
    public enum Code: String, Sendable {
        case invalidPayload = "INVALID_PAYLOAD"
        case unknownEvent = "UNKNOWN_EVENT"
        case unknownSymbol = "UNKNOWN_SYMBOL"
        case unknownChannel = "UNKNOWN_CHANNEL"
        case subscriptionLimit = "SUBSCRIPTION_LIMIT"
        case rateLimit = "RATE_LIMIT"
        case forbidden = "FORBIDDEN"
    }

    public let code: Code
    public let message: String
    public let retryAfterMs: Int?

    public init(_ code: Code, _ message: String, retryAfterMs: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterMs = retryAfterMs
    }

    public static func unknownEvent(_ event: String) -> ClientError {
        ClientError(.unknownEvent, "This namespace has no event named '\(event)'.")
    }

    /// `{"code","message"[,"event"][,"retryAfterMs"]}`
    func json(event: String?) -> JSONValue {
        var members = [JSONMember("code", .string(code.rawValue)), JSONMember("message", .string(message))]
        if let event { members.append(JSONMember("event", .string(event))) }
        if let retryAfterMs { members.append(JSONMember("retryAfterMs", .int(retryAfterMs))) }
        return .object(members)
    }
}
