/// Event routing of `/user` (SPEC §5): which channel's room each producer event goes to
/// (rooms: ``Room/user(_:user:offsets:)``).
public enum UserEventChannels {
    /// Producer event → the channel whose room it goes to (`user`: every socket of the user).
    public static let eventChannels: [String: String] = [
        "order.new": "orders", "order.update": "orders", "order.filled": "orders", "order.cancelled": "orders",
        "position.update": "positions", "position.liquidated": "positions",
        "wallet.update": "wallet", "margin.call": "user",
    ]
}
