import GatewayJSON

/// `/user`: the signed-in user's order, position, wallet and margin events. The socket joins
/// all of them on connect, so there is nothing to ask; the client strips and keeps the
/// recovery offset before events reach here.
final class UserEventsSubscription: ClientSubscription {
    static let events: Set<String> = [
        "order.new", "order.update", "order.filled", "order.cancelled",
        "position.update", "position.liquidated", "wallet.update", "margin.call",
    ]

    let namespace = "/user"
    private let continuation: AsyncStream<UserStreamElement>.Continuation
    var linkNumber: Int?

    init(continuation: AsyncStream<UserStreamElement>.Continuation) {
        self.continuation = continuation
    }

    var subscribeRequest: (event: String, payload: JSONValue)? { nil }

    func acknowledged(_ ack: JSONValue) -> ResyncReason? { nil }

    func handle(event: String, arguments: [JSONValue]) -> ResyncReason? {
        nil
    }

    func deliver(_ event: UserEvent) {
        continuation.yield(.event(event))
    }

    func recoveryFailed() {
        continuation.yield(.recoveryFailed)
    }

    func fail(_ error: GatewayClientError) { continuation.finish() }
    func finish() { continuation.finish() }
}
