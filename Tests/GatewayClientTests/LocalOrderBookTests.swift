@testable import GatewayClient
import GatewayJSON
import Testing

@Suite("A local order book kept from depth messages")
struct LocalOrderBookTests {
    static func depth(_ type: String, seq: Int, prevSeq: Int? = nil, bids: [[String]], asks: [[String]], checksum: UInt32) -> JSONValue {
        var members: [JSONMember] = [
            JSONMember("symbol", "BTC/USDT"), JSONMember("type", .string(type)), JSONMember("seq", .int(seq)),
        ]
        if let prevSeq { members.append(JSONMember("prevSeq", .int(prevSeq))) }
        members.append(JSONMember("bids", .array(bids.map { .array($0.map { .string($0) }) })))
        members.append(JSONMember("asks", .array(asks.map { .array($0.map { .string($0) }) })))
        members.append(JSONMember("checksum", .int(Int(checksum))))
        members.append(JSONMember("ts", .int(1)))
        return .object(members)
    }

    // CRC32 values computed with Python's zlib.crc32 over the SPEC §5 text.
    static let snapshot = depth("snapshot", seq: 7, bids: [["100", "3"], ["100.5", "2"]], asks: [["101", "1"]], checksum: 3_041_920_180)

    @Test("a snapshot is sorted best first and verified against the gateway's checksum")
    func snapshot() {
        var book = LocalOrderBook(symbol: "BTC/USDT")
        #expect(book.apply(Self.snapshot) == .applied)
        let view = book.view()
        #expect(view?.seq == 7)
        #expect(view?.bids == [PriceLevel(price: "100.5", qty: "2"), PriceLevel(price: "100", qty: "3")])
        #expect(view?.bestAsk == PriceLevel(price: "101", qty: "1"))
    }

    @Test("a delta that chains applies; a zero quantity removes the level")
    func delta() {
        var book = LocalOrderBook(symbol: "BTC/USDT")
        _ = book.apply(Self.snapshot)
        let add = Self.depth("delta", seq: 8, prevSeq: 7, bids: [], asks: [["102", "4"]], checksum: 2_910_745_598)
        #expect(book.apply(add) == .applied)
        #expect(book.view()?.asks.map(\.price) == ["101", "102"])
        let remove = Self.depth("delta", seq: 9, prevSeq: 8, bids: [], asks: [["102", "0"]], checksum: 3_041_920_180)
        #expect(book.apply(remove) == .applied)
        #expect(book.view()?.asks.map(\.price) == ["101"])
        #expect(book.seq == 9)
    }

    @Test("a delta that skips a seq is a gap and the book is unusable until the next snapshot")
    func gap() {
        var book = LocalOrderBook(symbol: "BTC/USDT")
        _ = book.apply(Self.snapshot)
        let skipping = Self.depth("delta", seq: 10, prevSeq: 9, bids: [], asks: [["102", "4"]], checksum: 2_910_745_598)
        #expect(book.apply(skipping) == .gap(expected: 7, prevSeq: 9))
        #expect(!book.isSynced && book.view() == nil)
        #expect(book.apply(Self.snapshot) == .applied)
        #expect(book.isSynced)
    }

    @Test("a delta before any snapshot is a gap")
    func deltaFirst() {
        var book = LocalOrderBook(symbol: "BTC/USDT")
        let delta = Self.depth("delta", seq: 8, prevSeq: 7, bids: [], asks: [], checksum: 0)
        #expect(book.apply(delta) == .gap(expected: nil, prevSeq: 7))
    }

    @Test("a checksum that differs after applying is reported and the book stops")
    func mismatch() {
        var book = LocalOrderBook(symbol: "BTC/USDT")
        _ = book.apply(Self.snapshot)
        let wrong = Self.depth("delta", seq: 8, prevSeq: 7, bids: [], asks: [["102", "4"]], checksum: 12345)
        #expect(book.apply(wrong) == .checksumMismatch(gateway: 12345, local: 2_910_745_598))
        #expect(!book.isSynced)
    }

    @Test("prices compare as numbers, not text, and keep the feed's spelling")
    func numericOrder() {
        var book = LocalOrderBook(symbol: "BTC/USDT")
        let bids = [["9.5", "1"], ["10", "1"], ["10.25", "1"]]
        let levels = [PriceLevel(price: "10.25", qty: "1"), PriceLevel(price: "10", qty: "1"), PriceLevel(price: "9.5", qty: "1")]
        let message = Self.depth("snapshot", seq: 1, bids: bids, asks: [], checksum: LocalOrderBook.checksum(bids: levels, asks: []))
        #expect(book.apply(message) == .applied)
        #expect(book.view()?.bids == levels)
    }

    @Test("another symbol's message is refused as malformed")
    func otherSymbol() {
        var book = LocalOrderBook(symbol: "ETH/USDT")
        if case .malformed = book.apply(Self.snapshot) {} else { Issue.record("expected malformed") }
    }
}

@Suite("Reconnect delays")
struct ReconnectPolicyTests {
    @Test("grow by the multiplier up to the cap; jitter only shortens")
    func growth() {
        let policy = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(2), multiplier: 2, jitter: 0.5)
        #expect((0..<7).map { policy.delay(attempt: $0, random: 0) } == [100, 200, 400, 800, 1600, 2000, 2000].map { .milliseconds($0) })
        #expect(policy.delay(attempt: 3, random: 0.5) == .milliseconds(600))
        for attempt in 0..<10 {
            let delay = policy.delay(attempt: attempt)
            #expect(delay <= policy.delay(attempt: attempt, random: 0) && delay >= policy.delay(attempt: attempt, random: 0.999_999))
        }
    }

    @Test("a huge attempt number stays at the cap")
    func cap() {
        #expect(ReconnectPolicy().delay(attempt: 10_000, random: 0) == .seconds(10))
    }
}
