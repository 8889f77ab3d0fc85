import GatewayCore
import GatewayJSON

/// What the namespaces send each other across a cluster, as broker bodies (`{"kind":…, …}`):
/// encoded and read here, carried by any ``Broker`` without being understood.
enum ClusterMessage: Equatable, Sendable {
    /// `offset`: the event's place in the user's shared stream, added by the ``HistoryStore``
    /// when it appended the event (every follower delivers it under that offset).
    case userEvent(userId: String, event: String, payloadJSON: String)
    /// An `AdminOperations.Broadcast` body.
    case broadcast(JSONValue)
    /// Market messages in their SPEC §6 wire form.
    case market([JSONValue])
    case maintenance(enabled: Bool, message: String?)
    /// An event for every `/admin` socket (`market.occupancy`).
    case adminEvent(event: String, payload: JSONValue)

    var body: JSONValue {
        switch self {
        case .userEvent(let userId, let event, let payloadJSON):
            .object([
                JSONMember("kind", "user"), JSONMember("userId", .string(userId)), JSONMember("event", .string(event)),
                JSONMember("data", .fragment(payloadJSON)),
            ])
        case .broadcast(let body):
            .object([JSONMember("kind", "broadcast"), JSONMember("body", body)])
        case .market(let messages):
            .object([JSONMember("kind", "market"), JSONMember("messages", .array(messages))])
        case .adminEvent(let event, let payload):
            .object([JSONMember("kind", "admin"), JSONMember("event", .string(event)), JSONMember("data", payload)])
        case .maintenance(let enabled, let message):
            .object([JSONMember("kind", "maintenance"), JSONMember("enabled", .bool(enabled)), JSONMember("message", message.map(JSONValue.string) ?? .null)])
        }
    }

    /// nil for a body that is none of these.
    init?(_ body: JSONValue) {
        switch body["kind"]?.stringValue {
        case "user":
            guard let userId = body["userId"]?.stringValue, let event = body["event"]?.stringValue, let data = body["data"] else { return nil }
            self = .userEvent(userId: userId, event: event, payloadJSON: JSONSerializer.serialize(data))
        case "broadcast":
            guard let inner = body["body"] else { return nil }
            self = .broadcast(inner)
        case "market":
            guard let messages = body["messages"]?.arrayValue else { return nil }
            self = .market(messages)
        case "admin":
            // Only what this gateway sends, rebuilt from checked fields: anyone who can PUBLISH
            // to Redis must not put arbitrary events in front of admins.
            guard body["event"]?.stringValue == "market.occupancy", let data = body["data"], let notice = OccupancyNotice(data) else { return nil }
            self = .adminEvent(event: "market.occupancy", payload: notice.json)
        case "maintenance":
            guard let enabled = body["enabled"]?.boolValue else { return nil }
            self = .maintenance(enabled: enabled, message: body["message"]?.stringValue)
        default:
            return nil
        }
    }
}

/// The channels the namespaces use between instances.
enum ClusterChannels {
    /// Broadcasts, maintenance, depth and status messages: every instance follows it.
    static let all = BrokerChannel("all")
    /// One user's events: followed while the user has a socket (or a kept session) here.
    static func user(_ userId: String) -> BrokerChannel { BrokerChannel("user:" + userId) }
    /// One symbol's ticks, trades, tickers and stats accepted over HTTP: followed while the
    /// symbol has a subscriber here.
    static func market(_ symbol: String) -> BrokerChannel { BrokerChannel("market:" + symbol) }
}
