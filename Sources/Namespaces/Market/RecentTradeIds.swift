import DequeModule

/// The last trade ids a symbol's producer sent (docs/integration.md): a trade whose id is among
/// them is a producer's retry and is dropped. At most `capacity` per symbol, oldest forgotten.
struct RecentTradeIds {
    static let capacity = 4_096
    private var seen: Set<String> = []
    private var order = Deque<String>()

    /// True when `id` is new (and remembers it); false for a repeat.
    mutating func insert(_ id: String) -> Bool {
        guard seen.insert(id).inserted else { return false }
        order.append(id)
        if order.count > Self.capacity, let oldest = order.popFirst() { seen.remove(oldest) }
        return true
    }
}
