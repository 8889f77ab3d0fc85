import Foundation
import GatewayJSON
import MarketFeed

/// One price level as the feed wrote it.
public struct PriceLevel: Sendable, Hashable {
    public let price: String
    public let qty: String
}

/// A verified view of one symbol's book: levels best first.
public struct OrderBook: Sendable, Hashable {
    public let symbol: String
    /// The `seq` of the last depth message applied.
    public let seq: Int
    public let bids: [PriceLevel]
    public let asks: [PriceLevel]
    /// The CRC32 both sides agreed on (SPEC §5).
    public let checksum: UInt32
    /// Source time of the last message applied, ms since the epoch.
    public let ts: Double

    public var bestBid: PriceLevel? { bids.first }
    public var bestAsk: PriceLevel? { asks.first }
}

/// A symbol's order book kept from `market.depth` messages, as exchange SDKs do: a snapshot,
/// then deltas that must chain (`prevSeq` = the last `seq`), each checked against the
/// gateway's CRC32 of the top 10 levels (of every level, for a depth-N book). A message that does not chain or whose checksum
/// differs leaves the book unusable until the next snapshot: the caller resubscribes.
public struct LocalOrderBook: Sendable {
    public enum Outcome: Sendable, Hashable {
        case applied
        /// A delta that does not continue from the book's `seq` (or arrived before any snapshot).
        case gap(expected: Int?, prevSeq: Int)
        /// After applying, the book's checksum is not the gateway's.
        case checksumMismatch(gateway: UInt32, local: UInt32)
        /// Not a depth message of this symbol.
        case malformed(String)
    }

    public let symbol: String
    private var bids: [Decimal: PriceLevel] = [:]
    private var asks: [Decimal: PriceLevel] = [:]
    /// nil until a snapshot is applied, and after a gap or mismatch.
    public private(set) var seq: Int?
    private var ts: Double = 0
    private var checksum: UInt32 = 0
    /// Levels per side the gateway's checksum covers: 10 for the whole book, N for a book
    /// subscribed with `"depth": N` (every level it holds).
    public let checksumLevels: Int

    public init(symbol: String, checksumLevels: Int = 10) {
        self.symbol = symbol
        self.checksumLevels = checksumLevels
    }

    /// True while the book is verified and deltas can apply.
    public var isSynced: Bool { seq != nil }

    /// The verified book, `depth` levels per side; nil when not in sync.
    public func view(depth: Int = 10) -> OrderBook? {
        guard let seq else { return nil }
        let (bids, asks) = sorted(limit: depth)
        return OrderBook(symbol: symbol, seq: seq, bids: bids, asks: asks, checksum: checksum, ts: ts)
    }

    /// Applies one `market.depth` payload.
    public mutating func apply(_ message: JSONValue) -> Outcome {
        guard message["symbol"]?.stringValue == symbol, let type = message["type"]?.stringValue,
              let seq = message["seq"]?.intValue, let sentChecksum = message["checksum"]?.intValue,
              let bidLevels = message["bids"]?.arrayValue, let askLevels = message["asks"]?.arrayValue
        else { return .malformed("not a depth message of \(symbol)") }
        switch type {
        case "snapshot":
            bids = [:]
            asks = [:]
        case "delta":
            let prevSeq = message["prevSeq"]?.intValue ?? -1
            guard let current = self.seq, current == prevSeq else {
                let expected = self.seq
                self.seq = nil
                return .gap(expected: expected, prevSeq: prevSeq)
            }
        default:
            return .malformed("unknown depth type \(type)")
        }
        guard Self.merge(bidLevels, into: &bids), Self.merge(askLevels, into: &asks) else {
            self.seq = nil
            return .malformed("a level is not [price, qty]")
        }
        let (topBids, topAsks) = sorted(limit: checksumLevels)
        let local = Self.checksum(bids: topBids, asks: topAsks, levels: checksumLevels)
        guard local == UInt32(truncatingIfNeeded: sentChecksum) else {
            self.seq = nil
            return .checksumMismatch(gateway: UInt32(truncatingIfNeeded: sentChecksum), local: local)
        }
        self.seq = seq
        checksum = local
        ts = message["ts"]?.doubleValue ?? ts
        return .applied
    }

    /// SPEC §5: CRC32 of `bidPrice:bidQty:askPrice:askQty:` level by level over the top `levels`
    /// (10; every held level of a depth-N book: N), a side that has run out contributing nothing.
    public static func checksum(bids: [PriceLevel], asks: [PriceLevel], levels: Int = 10) -> UInt32 {
        var text = ""
        for index in 0..<min(levels, max(bids.count, asks.count)) {
            if index < bids.count { text += "\(bids[index].price):\(bids[index].qty):" }
            if index < asks.count { text += "\(asks[index].price):\(asks[index].qty):" }
        }
        return CRC32.checksum(text.utf8)
    }

    /// A quantity of 0 removes the level.
    private static func merge(_ levels: [JSONValue], into side: inout [Decimal: PriceLevel]) -> Bool {
        for level in levels {
            guard let pair = level.arrayValue, pair.count >= 2, let price = pair[0].decimalText, let qty = pair[1].decimalText,
                  let key = Decimal(string: price), let amount = Decimal(string: qty)
            else { return false }
            if amount.isZero { side[key] = nil } else { side[key] = PriceLevel(price: price, qty: qty) }
        }
        return true
    }

    private func sorted(limit: Int) -> (bids: [PriceLevel], asks: [PriceLevel]) {
        let bids = self.bids.sorted { $0.key > $1.key }.prefix(limit).map(\.value)
        let asks = self.asks.sorted { $0.key < $1.key }.prefix(limit).map(\.value)
        return (bids, asks)
    }
}
