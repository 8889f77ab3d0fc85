import GatewayJSON
import Namespaces

/// The body of `POST /api/v1/users/{userId}/events`: one `{"event","data","eventId"?}` object or
/// an array of 1 to `maximum` of them, checked whole before anything is delivered.
struct UserEventBatch {
    struct Event {
        let name: String
        let payloadJSON: String
        /// The producer's id of the event: delivered once per user and id (docs/integration.md).
        let eventId: String?
    }

    let events: [Event]
    /// Sent as an array (answered with a count).
    let isArray: Bool

    init(_ payload: JSONValue, maximum: Int) throws {
        let items: [JSONValue]
        if case .array(let list) = payload {
            guard (1...maximum).contains(list.count) else { throw APIError.badRequest("Send one event or an array of 1 to \(maximum) events.") }
            items = list
            isArray = true
        } else {
            items = [payload]
            isArray = false
        }
        var events: [Event] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let place = isArray ? "event \(index): " : ""
            guard let name = item["event"]?.stringValue, UserEventChannels.eventChannels[name] != nil else {
                throw APIError.badRequest(place + "'event' must be one of \(UserEventChannels.eventChannels.keys.sorted().joined(separator: ", ")).")
            }
            guard let data = item["data"], data.isObject else { throw APIError.badRequest(place + "'data' must be an object.") }
            var eventId: String?
            if let value = item["eventId"] {
                guard let text = value.stringValue, Self.isEventId(text) else {
                    throw APIError.badRequest(place + "'eventId' must be a string of 1 to 128 visible ASCII characters.")
                }
                eventId = text
            }
            events.append(Event(name: name, payloadJSON: JSONSerializer.serialize(data), eventId: eventId))
        }
        self.events = events
    }

    static func isEventId(_ text: String) -> Bool {
        IdempotencyKey.isVisibleASCII(text, maxBytes: 128)
    }

    /// The idempotency key of a user's event id; the user id goes in with its length first, so no
    /// two (user, id) pairs share a key whatever characters they hold (SPEC §11).
    static func eventKey(userId: String, eventId: String) -> String {
        "ev:\(userId.utf8.count):" + userId + ":" + eventId
    }
}
