/// Room names and event routing of `/user` (SPEC §2, §5).
///
/// A socket that opted into connection state recovery gets each event with its offset as an
/// extra argument, so it sits in the `#offsets` twin of each room: every event is encoded
/// twice (with and without the offset) and each copy written to its own room, never per socket.
public enum UserRooms {
    /// Producer event → the channel whose room it goes to (`user`: every socket of the user).
    public static let eventChannels: [String: String] = [
        "order.new": "orders", "order.update": "orders", "order.filled": "orders", "order.cancelled": "orders",
        "position.update": "positions", "position.liquidated": "positions",
        "wallet.update": "wallet", "margin.call": "user",
    ]

    static func room(_ channel: String, user: String, offsets: Bool) -> String {
        offsets ? "\(channel):\(user)#offsets" : "\(channel):\(user)"
    }
}
