import GatewayJSON

/// Something a caller streams from the gateway. The client owns it: it (re)establishes it on
/// every new connection with `subscribeRequest`, routes the namespace's events to it, and ends
/// it when the caller stops listening or the gateway refuses it.
protocol ClientSubscription: AnyObject {
    var namespace: String { get }
    /// What makes the gateway send it on a fresh socket (sent with an ack); nil: nothing to
    /// ask (e.g. `/user` joins its rooms on connect).
    var subscribeRequest: (event: String, payload: JSONValue)? { get }
    /// The `/prices` and `/market` symbols it streams (freshness is tracked for them).
    var marketSymbols: [String] { get }
    /// The number of the link it was last established on (nil: not yet).
    var linkNumber: Int? { get set }
    /// The subscribe ack's state (latest prices, book snapshots), applied when the ack arrives,
    /// before any later event; returns why it must be fetched again when that state does not
    /// verify, nil otherwise.
    func acknowledged(_ ack: JSONValue) -> ResyncReason?
    /// True when `other`'s subscribe ack carries this subscription's state too.
    func sharesState(with other: any ClientSubscription) -> Bool
    /// An event of its namespace; returns why the subscription must be re-established when its
    /// state cannot continue (a book gap), nil otherwise.
    func handle(event: String, arguments: [JSONValue]) -> ResyncReason?
    /// The connection dropped; state until the next `acknowledged` is not to be trusted.
    func connectionLost()
    /// The gateway refused it for good: the stream ends.
    func fail(_ error: GatewayClientError)
    /// The caller stopped listening or the client closed.
    func finish()
    /// What to send when the caller stops listening, given what other subscriptions still need.
    func unsubscribeRequest(keeping others: [any ClientSubscription]) -> (event: String, payload: JSONValue)?
}

/// Why a book is fetched again.
enum ResyncReason: Sendable {
    case gap
    case checksumMismatch
}

extension ClientSubscription {
    var marketSymbols: [String] { [] }
    func connectionLost() {}
    func sharesState(with other: any ClientSubscription) -> Bool { false }
    func unsubscribeRequest(keeping others: [any ClientSubscription]) -> (event: String, payload: JSONValue)? { nil }
}

extension JSONValue {
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    /// A subscribe payload with `heartbeatMs` (0: off): the opt-in that also brings the
    /// gateway run's `epoch` and the stale list in the ack (docs/market-data.md).
    func withHeartbeat(_ ms: Int?) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members.append(JSONMember("heartbeatMs", .number(String(ms ?? 0))))
        return .object(members)
    }
}
