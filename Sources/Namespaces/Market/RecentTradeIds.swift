import DequeModule
import GatewayJSON

/// The last trade ids a symbol's producer sent (docs/integration.md): a trade whose id is among
/// them is a producer's retry and is dropped. At most `capacity` per symbol, oldest forgotten;
/// each kept as a 64-bit hash, so an id's length (a producer's to choose) costs nothing held.
struct RecentTradeIds {
    static let capacity = 1_024
    private var seen: Set<Int> = []
    private var order = Deque<Int>()

    /// True when `id` is new (and remembers it); false for a repeat.
    mutating func insert(_ id: JSONValue) -> Bool {
        let hash = id.hashValue
        guard seen.insert(hash).inserted else { return false }
        order.append(hash)
        if order.count > Self.capacity, let oldest = order.popFirst() { seen.remove(oldest) }
        return true
    }
}
