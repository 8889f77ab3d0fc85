import GatewayJSON

/// A message on the broker's Redis channels, as JSON text: the feature's body with the sending
/// instance's `origin` first (`{"origin":…,"kind":"user",…}`), or one of the broker's own:
/// a request every other instance answers, a reply, a recovery marker. The user-log script
/// publishes feature messages too: it closes the object after adding `"offset"`, so a body is
/// always a flat object the broker never looks into.
enum BrokerEnvelope: Equatable, Sendable {
    case message(JSONValue)
    case request(id: String, replyTo: String, body: JSONValue)
    case reply(id: String, body: JSONValue)
    /// Published by a recovery on the user's channel, after its read (see ``RedisHistory``).
    case marker(String)

    func encoded(origin: String) -> String {
        var members: [JSONMember] = [JSONMember("origin", .string(origin))]
        switch self {
        case .message(let body):
            if case .object(let own) = body { members += own.filter { $0.key != "origin" } }
        case .request(let id, let replyTo, let body):
            members += [JSONMember("kind", "request"), JSONMember("id", .string(id)), JSONMember("replyTo", .string(replyTo)), JSONMember("command", body)]
        case .reply(let id, let body):
            members += [JSONMember("kind", "reply"), JSONMember("id", .string(id)), JSONMember("result", body)]
        case .marker(let token):
            members += [JSONMember("kind", "marker"), JSONMember("id", .string(token))]
        }
        return JSONSerializer.serialize(.object(members))
    }

    /// The sender and the envelope; nil for anything that is not one.
    static func decode(_ bytes: [UInt8]) -> (origin: String, envelope: BrokerEnvelope)? {
        guard let value = try? JSONParser.parse(bytes), case .object(let members) = value, let origin = value["origin"]?.stringValue else { return nil }
        switch value["kind"]?.stringValue {
        case "request":
            guard let id = value["id"]?.stringValue, let replyTo = value["replyTo"]?.stringValue, let command = value["command"] else { return nil }
            return (origin, .request(id: id, replyTo: replyTo, body: command))
        case "reply":
            guard let id = value["id"]?.stringValue, let result = value["result"] else { return nil }
            return (origin, .reply(id: id, body: result))
        case "marker":
            guard let token = value["id"]?.stringValue else { return nil }
            return (origin, .marker(token))
        default:
            return (origin, .message(.object(members.filter { $0.key != "origin" })))
        }
    }
}
