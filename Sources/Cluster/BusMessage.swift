import GatewayJSON

/// One message on the cluster bus, as JSON text: `{"origin":…,"kind":…, …}`. The origin is
/// the sending instance, which ignores its own messages (it delivered them already).
public enum BusMessage: Equatable, Sendable {
    /// `offset`: the event's id in the user's stream, which the script that added it there
    /// appends to the message (every instance delivers those, the accepting one included).
    case userEvent(userId: String, event: String, payloadJSON: String, offset: String? = nil)
    /// An `AdminOperations.Broadcast` body.
    case broadcast(JSONValue)
    /// Market messages in their SPEC §6 wire form.
    case market([JSONValue])
    case maintenance(enabled: Bool, message: String?)
    /// A question every other instance answers on `replyTo`: `{"command":"kick",…}` or
    /// `{"command":"stats"}`.
    case request(id: String, replyTo: String, command: JSONValue)
    case reply(id: String, result: JSONValue)
    /// Published on a user's channel by a recovery, after its read: see ``ClusterUserLog``.
    case marker(String)

    public func encoded(origin: String) -> String {
        var members: [JSONMember] = [JSONMember("origin", .string(origin))]
        switch self {
        case .userEvent(let userId, let event, let payloadJSON, let offset):
            members += [
                JSONMember("kind", "user"), JSONMember("userId", .string(userId)), JSONMember("event", .string(event)),
                JSONMember("data", .fragment(payloadJSON)),
            ]
            if let offset { members.append(JSONMember("offset", .string(offset))) }
        case .broadcast(let body):
            members += [JSONMember("kind", "broadcast"), JSONMember("body", body)]
        case .market(let messages):
            members += [JSONMember("kind", "market"), JSONMember("messages", .array(messages))]
        case .maintenance(let enabled, let message):
            members += [JSONMember("kind", "maintenance"), JSONMember("enabled", .bool(enabled)), JSONMember("message", message.map(JSONValue.string) ?? .null)]
        case .request(let id, let replyTo, let command):
            members += [JSONMember("kind", "request"), JSONMember("id", .string(id)), JSONMember("replyTo", .string(replyTo)), JSONMember("command", command)]
        case .reply(let id, let result):
            members += [JSONMember("kind", "reply"), JSONMember("id", .string(id)), JSONMember("result", result)]
        case .marker(let token):
            members += [JSONMember("kind", "marker"), JSONMember("id", .string(token))]
        }
        return JSONSerializer.serialize(.object(members))
    }

    /// The sender and the message; nil for anything that is not a bus message.
    public static func decode(_ bytes: [UInt8]) -> (origin: String, message: BusMessage)? {
        guard let value = try? JSONParser.parse(bytes), let origin = value["origin"]?.stringValue else { return nil }
        switch value["kind"]?.stringValue {
        case "user":
            guard let userId = value["userId"]?.stringValue, let event = value["event"]?.stringValue, let data = value["data"] else { return nil }
            return (origin, .userEvent(userId: userId, event: event, payloadJSON: JSONSerializer.serialize(data), offset: value["offset"]?.stringValue))
        case "broadcast":
            guard let body = value["body"] else { return nil }
            return (origin, .broadcast(body))
        case "market":
            guard let messages = value["messages"]?.arrayValue else { return nil }
            return (origin, .market(messages))
        case "maintenance":
            guard let enabled = value["enabled"]?.boolValue else { return nil }
            return (origin, .maintenance(enabled: enabled, message: value["message"]?.stringValue))
        case "request":
            guard let id = value["id"]?.stringValue, let replyTo = value["replyTo"]?.stringValue, let command = value["command"] else { return nil }
            return (origin, .request(id: id, replyTo: replyTo, command: command))
        case "reply":
            guard let id = value["id"]?.stringValue, let result = value["result"] else { return nil }
            return (origin, .reply(id: id, result: result))
        case "marker":
            guard let token = value["id"]?.stringValue else { return nil }
            return (origin, .marker(token))
        default:
            return nil
        }
    }
}

/// The bus's Redis channels under the configured prefix.
public struct BusChannels: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Broadcasts, maintenance, admin requests, depth and status messages: every instance listens.
    public var all: String { prefix + "bus:all" }

    /// One symbol's ticks, trades, tickers and stats accepted over HTTP: only instances with a
    /// subscriber for the symbol listen.
    public func market(_ symbol: String) -> String { prefix + "bus:market:" + symbol }

    /// One user's events: only instances with a socket of that user listen.
    public func user(_ userId: String) -> String { prefix + "bus:user:" + userId }

    /// Replies to one instance's requests.
    public func instance(_ id: String) -> String { prefix + "bus:instance:" + id }
}
