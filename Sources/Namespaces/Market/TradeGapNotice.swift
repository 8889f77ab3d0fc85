import GatewayCore
import GatewayJSON

/// The `market.gap` frame declaring the trades a lagging socket skipped of one symbol.
enum TradeGapNotice {
    static func frame(skipped: ClosedRange<UInt64>, symbol: String, namespace: NamespacePath) -> EncodedFrame {
        OutboundMessage.event(
            namespace: namespace, name: "market.gap",
            payloadJSON: MarketNotices.gap(symbol: symbol, channel: .trades, skipped: skipped, reason: .conflated)
        ).header
    }
}
