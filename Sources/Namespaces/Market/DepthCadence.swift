import NIOCore

/// How often a `/market` depth subscriber gets book updates (SPEC §3 `cadence`): every delta
/// as it comes (`raw`), or the deltas of each 100 ms / 1 s merged into one. Each cadence has
/// its own room, so every update is still encoded once per cadence, not per socket.
public enum DepthCadence: String, CaseIterable, Sendable {
    case raw
    case fast = "100ms"
    case slow = "1000ms"

    package var interval: TimeAmount? {
        switch self {
        case .raw: nil
        case .fast: .milliseconds(100)
        case .slow: .seconds(1)
        }
    }

    /// Every depth room of a symbol: one per cadence and depth choice (whole book included).
    static func rooms(_ symbol: String) -> [Room] {
        allCases.flatMap { cadence in
            ([nil] + DepthLevels.allCases).map { Room.depth(symbol: symbol, cadence: cadence, levels: $0) }
        }
    }
}
