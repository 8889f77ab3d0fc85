import GatewayJSON

/// A price or quantity as the feed wrote it: a JSON number or a decimal string. The text is
/// kept (and re-emitted in the same JSON form); `value` is for ordering and arithmetic only.
public struct DecimalText: Sendable, Hashable, Comparable {
    public let json: JSONValue
    public let text: String
    public let value: Double

    public init?(_ json: JSONValue) {
        switch json {
        case .number(let text):
            guard let value = Double(text), value.isFinite else { return nil }
            self.init(json: json, text: text, value: value)
        case .string(let text):
            guard Self.isDecimal(text), let value = Double(text) else { return nil }
            self.init(json: json, text: text, value: value)
        default:
            return nil
        }
    }

    private init(json: JSONValue, text: String, value: Double) {
        self.json = json
        self.text = text
        self.value = value
    }

    /// `-?digits[.digits]` only: no exponent, no spaces, no hex, no "NaN".
    static func isDecimal(_ text: String) -> Bool {
        // Bytes, not Characters: grapheme breaking was the parser's largest cost per level.
        var sawDigit = false
        var sawPoint = false
        var last: UInt8 = 0
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where index == 0: break
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: ".") where !sawPoint && sawDigit: sawPoint = true
            default: return false
            }
            last = byte
        }
        return sawDigit && last != UInt8(ascii: ".")
    }

    public var isZero: Bool { value == 0 }

    /// Zero as a JSON string and as a JSON number (a removal written like the level's quantity).
    public static let zeroString = DecimalText(json: .string("0"), text: "0", value: 0)
    public static let zeroNumber = DecimalText(json: .number("0"), text: "0", value: 0)

    public static func < (lhs: DecimalText, rhs: DecimalText) -> Bool { lhs.value < rhs.value }
    public static func == (lhs: DecimalText, rhs: DecimalText) -> Bool { lhs.json == rhs.json }
    public func hash(into hasher: inout Hasher) { hasher.combine(json) }
}
