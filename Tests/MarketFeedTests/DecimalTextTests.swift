import GatewayJSON
import MarketFeed
import Testing

/// Decimal strings are checked byte by byte; only `-?digits[.digits]` in ASCII may pass.
@Suite("Decimal text")
struct DecimalTextTests {
    @Test("decimal strings are accepted with their text and value", arguments: ["0", "1", "-0.5", "64000.10", "007"])
    func accepted(text: String) throws {
        let decimal = try #require(DecimalText(.string(text)))
        #expect(decimal.text == text && decimal.value == Double(text))
    }

    @Test("anything else in a string is refused", arguments: [
        "", "-", ".5", "1.", "1.2.3", "--1", "1-", " 1", "1 ", "1e5", "+1", "0x1", "NaN", "inf", "\u{0661}", "5\u{0301}", "1,5",
    ])
    func refused(text: String) {
        #expect(DecimalText(.string(text)) == nil)
    }
}
