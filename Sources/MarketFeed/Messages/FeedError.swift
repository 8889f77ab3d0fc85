/// Why a feed message was refused: a stable `reason` (the `gateway_feed_rejected_total` label
/// and the API error code) and a message naming the field.
public struct FeedError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case invalidJSON = "invalid_json"
        case unknownType = "unknown_type"
        case unknownSymbol = "unknown_symbol"
        case missingField = "missing_field"
        case invalidField = "invalid_field"
        case sequenceGap = "sequence_gap"
        case staleSequence = "stale_sequence"
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
