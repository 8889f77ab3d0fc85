import GatewayJSON

/// Adds up the admin stats of several instances (``AdminOperations/stats()`` objects): counts
/// and rates are summed (connections per namespace too), maintenance is on if any instance is
/// in it, objects are merged key by key over every instance's keys (occupancy per symbol), the
/// rest (Redis state, uptime, ts) is the first one's, this instance's. `instances`
/// says how many answered. Unique users are summed: a user with sockets on two instances
/// counts twice.
public enum AdminStats {
    public static func merge(_ all: [JSONValue]) -> JSONValue {
        guard case .object(let first)? = all.first else { return .object([JSONMember("instances", .int(0))]) }
        var merged: [JSONMember] = []
        for member in first where member.key != "instances" {
            let values = all.compactMap { $0[member.key] }
            merged.append(JSONMember(member.key, combine(member.key, values) ?? member.value))
        }
        merged.append(JSONMember("instances", .int(all.count)))
        return .object(merged)
    }

    /// This instance's: every instance reads the same feed, so its stale symbols are not summed.
    private static let ownValues: Set<String> = ["redis", "uptimeSeconds", "ts", "market"]

    private static func combine(_ key: String, _ values: [JSONValue]) -> JSONValue? {
        guard !ownValues.contains(key), let first = values.first else { return nil }
        switch first {
        case .bool:
            return .bool(values.contains { $0.boolValue == true })
        case .number:
            let numbers = values.compactMap { value -> Double? in
                if case .number(let text) = value { return Double(text) }
                return nil
            }
            let sum = numbers.reduce(0, +)
            return sum.rounded() == sum && values.allSatisfy({ if case .number(let text) = $0 { !text.contains(".") } else { false } })
                ? .int(Int(sum)) : .double(sum)
        case .object:
            // Every instance's keys (one instance's symbols are not another's), first seen first.
            var keys: [String] = []
            var seen: Set<String> = []
            for case .object(let members) in values {
                for member in members where seen.insert(member.key).inserted { keys.append(member.key) }
            }
            return .object(keys.map { key in
                let present = values.compactMap { $0[key] }
                return JSONMember(key, combine(key, present) ?? present[0])
            })
        default:
            return nil
        }
    }
}
