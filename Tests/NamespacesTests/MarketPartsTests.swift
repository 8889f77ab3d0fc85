import GatewayCore
import GatewayJSON
import MarketFeed
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import Namespaces

@Suite("Market state parts, without loops or sockets")
struct MarketPartsTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("a throttle sends at once, then holds the newest until the interval ends, and never sends an older value after a newer one")
    func throttle() {
        var throttle = Throttle<Int>()
        let interval = TimeAmount.milliseconds(100)
        guard case .send = throttle.offer(1, now: start, interval: interval) else { Issue.record("first goes at once"); return }
        guard case .hold(let flushAt?) = throttle.offer(2, now: start + .milliseconds(10), interval: interval) else {
            Issue.record("second is held with a timer"); return
        }
        #expect(flushAt == start + interval)
        guard case .hold(nil) = throttle.offer(3, now: start + .milliseconds(20), interval: interval) else {
            Issue.record("third replaces the held one; the timer is already set"); return
        }
        guard case .send(3) = throttle.flush(now: start + interval, interval: interval) else {
            Issue.record("the newest held value goes when the interval ends"); return
        }
        guard case .nothing = throttle.flush(now: start + interval + .milliseconds(1), interval: interval) else { Issue.record("nothing left"); return }

        // A late timer: a newer value sent directly supersedes what was held.
        var late = Throttle<Int>()
        _ = late.offer(1, now: start, interval: interval)
        _ = late.offer(2, now: start + .milliseconds(50), interval: interval)
        guard case .send = late.offer(3, now: start + .milliseconds(150), interval: interval) else { Issue.record("due: sent"); return }
        guard case .nothing = late.flush(now: start + .milliseconds(151), interval: interval) else {
            Issue.record("2 must not follow 3"); return
        }
        // A value offered right after that direct send waits out the interval, even for the old timer.
        guard case .hold = late.offer(4, now: start + .milliseconds(155), interval: interval) else { Issue.record("held"); return }
        guard case .wait(let until) = late.flush(now: start + .milliseconds(160), interval: interval) else {
            Issue.record("the overdue timer does not send inside the interval"); return
        }
        #expect(until == start + .milliseconds(250))
        guard case .send(4) = late.flush(now: until, interval: interval) else { Issue.record("then it goes"); return }
    }

    func depth(_ kind: FeedMessage.Depth.Kind, seq: UInt64, bids: [(String, String)], asks: [(String, String)] = []) -> FeedMessage.Depth {
        let parser = FeedParser(symbols: ["BTC/USDT"])
        let json: JSONValue = .object([
            "type": "depth", "symbol": "BTC/USDT", "kind": .string(kind.rawValue), "seq": .int(Int(seq)),
            "bids": .array(bids.map { .array([.string($0.0), .string($0.1)]) }),
            "asks": .array(asks.map { .array([.string($0.0), .string($0.1)]) }), "ts": .int(7),
        ])
        guard case .depth(let message) = try! parser.parse(json) else { fatalError() }
        return message
    }

    @Test("depth books: a snapshot and a chained delta are published, a gap is not, the cadence merges the deltas")
    func depthBooks() throws {
        var books = DepthBooks(cadences: [.fast])
        guard case .publish(let snapshot, 1...1) = books.apply(depth(.snapshot, seq: 1, bids: [("100", "1")], asks: [("101", "1")])) else {
            Issue.record("snapshot published"); return
        }
        #expect(try JSONParser.parse(snapshot)["type"] == "snapshot")
        guard case .publish(let delta, 2...2) = books.apply(depth(.delta, seq: 2, bids: [("99", "2")])) else { Issue.record("delta"); return }
        #expect(try JSONParser.parse(delta)["prevSeq"] == .int(1))
        _ = books.apply(depth(.delta, seq: 3, bids: [("98", "3")]))
        guard case .rejected = books.apply(depth(.delta, seq: 3, bids: [("100", "1")])) else {
            Issue.record("a delta that is not after the book is refused"); return
        }
        guard case .restarted(_, previousSeq: 3, seq: 2) = books.apply(depth(.snapshot, seq: 2, bids: [("100", "1")])) else {
            Issue.record("a snapshot below a live book's seq restarts it"); return
        }
        #expect(books.apply(depth(.delta, seq: 5, bids: [("97", "1")])) == .gap(expected: 3, got: 5))
        #expect(books.apply(depth(.delta, seq: 6, bids: [("97", "1")])) == .gap(expected: nil, got: 6), "already stale: no second notice")
        #expect(books.snapshots(["BTC/USDT"], ts: .int(9)).isEmpty, "a stale book gives no snapshot")
        _ = books.apply(depth(.snapshot, seq: 10, bids: [("100", "1")], asks: [("101", "1")]))
        #expect(books.snapshots(["BTC/USDT"], ts: .int(9)).count == 1)
        let merged = books.flush(.fast, symbols: nil, now: .int(0))
        #expect(merged.count == 1 && merged[0].symbol == "BTC/USDT")
        #expect(books.flush(.fast, symbols: nil, now: .int(0)).isEmpty, "nothing new since the last flush")
    }

    @Test("feed ingest queue: admits up to its bound, refuses a batch whole past it")
    func ingestQueue() {
        let queue = FeedIngestQueue(maxPending: 10)
        #expect(queue.admit(6))
        #expect(!queue.admit(5), "6 + 5 would pass 10: refused whole")
        #expect(queue.admit(4))
        queue.published(6)
        #expect(queue.admit(6))
        #expect(queue.secondsSinceLastMessage < 5)
    }
}

@Suite("Symbol interest (cluster mode follows only wanted symbols)")
struct SymbolInterestTests {
    @Test("rooms keep their symbol; other rooms have none")
    func roomSymbols() {
        #expect(Room.prices(symbol: "BTC/USDT").symbol == "BTC/USDT")
        #expect(Room.market(.trades, symbol: "ETH/USDT").symbol == "ETH/USDT")
        #expect(Room.depth(symbol: "SOL/USDT", cadence: .fast).symbol == "SOL/USDT")
        #expect(Room.depth(symbol: "SOL/USDT", cadence: .raw).symbol == "SOL/USDT")
        #expect(Room.user(channel: "orders", user: "u", offsets: false).symbol == nil)
        #expect(Room.admins.symbol == nil)
    }

    @Test("room names are SPEC §2's, in their namespace, and a symbol that looks like another room's name never meets it")
    func roomNames() {
        #expect(Room.prices(symbol: "BTC/USDT").key == RoomKey(namespace: "/prices", name: "prices:BTC/USDT"))
        #expect(Room.market(.trades, symbol: "ETH/USDT").key == RoomKey(namespace: "/market", name: "market:trades:ETH/USDT"))
        #expect(Room.depth(symbol: "S", cadence: .raw).key.name == "market:depth:S")
        #expect(Room.depth(symbol: "S", cadence: .fast).key.name == "market:depth@100ms:S")
        #expect(Room.user(channel: "orders", user: "u", offsets: true).key == RoomKey(namespace: "/user", name: "orders#offsets:u"))
        #expect(Room.admins.key == RoomKey(namespace: "/admin", name: "admin"))
        let rooms: [Room] = [
            .market(.trades, symbol: "S"), .market(.ticker, symbol: "S"), .market(.stats, symbol: "S"),
        ] + DepthCadence.allCases.map { .depth(symbol: "S", cadence: $0) }
        #expect(Set(rooms.map(\.key)).count == rooms.count)
    }

    @Test("the observer hears a symbol's first and last room only")
    func firstAndLast() {
        let interest = SymbolInterest()
        let heard = NIOLockedValueBox<[String]>([])
        interest.observe { symbol in heard.withLockedValue { $0.append(symbol + (interest.isWanted(symbol) ? "+" : "-")) } }
        interest.add(["BTC", "BTC", "ETH"])
        interest.add(["BTC"])
        interest.remove(["BTC", "BTC"])
        #expect(heard.withLockedValue { $0 } == ["BTC+", "ETH+"])
        interest.remove(["BTC", "ETH", "DOGE"])
        #expect(heard.withLockedValue { $0 } == ["BTC+", "ETH+", "BTC-", "ETH-"])
        #expect(interest.wanted.isEmpty)
    }

    @Test("another instance's latest value replaces one only when it is newer by ts")
    func newestWins() {
        let values = LatestValues()
        let ts = MarketState.timestamp
        #expect(values.replace(.init(stream: .price, symbol: "S"), payload: #"{"price":"1","ts":100}"#, ifNewerThanHeld: ts))
        #expect(!values.replace(.init(stream: .price, symbol: "S"), payload: #"{"price":"0","ts":99}"#, ifNewerThanHeld: ts))
        #expect(!values.replace(.init(stream: .price, symbol: "S"), payload: #"{"price":"1b","ts":100}"#, ifNewerThanHeld: ts))
        #expect(values.replace(.init(stream: .price, symbol: "S"), payload: #"{"price":"2","ts":101}"#, ifNewerThanHeld: ts))
        #expect(values.all(symbol: "S").map(\.payload) == [#"{"price":"2","ts":101}"#])
    }
}

@Suite("Admin stats merged over instances")
struct AdminStatsMergeTests {
    @Test("objects are merged over every instance's keys: one instance's symbols are not lost")
    func unionOfKeys() throws {
        let a = try JSONParser.parse(#"{"uniqueUsers":2,"occupancy":{"symbols":{"BTC/USDT":{"prices":3}}}}"#)
        let b = try JSONParser.parse(#"{"uniqueUsers":1,"occupancy":{"symbols":{"BTC/USDT":{"depth":1,"prices":1},"ETH/USDT":{"trades":2}}}}"#)
        let merged = AdminStats.merge([a, b])
        #expect(JSONSerializer.serialize(merged) == #"{"uniqueUsers":3,"occupancy":{"symbols":{"BTC/USDT":{"prices":4,"depth":1},"ETH/USDT":{"trades":2}}},"instances":2}"#)
    }
}
