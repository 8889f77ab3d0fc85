import GatewayCore
import MarketFeed
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCodec
import Synchronization

/// The market as the feed left it, and the fan-out of each feed message (SPEC §5). Feed
/// messages are published on one event loop (`feedLoop`), in order; each is encoded once and
/// broadcast to its room. Latest values (under a lock) and books (feed loop only) serve
/// state-on-subscribe. Unchecked Sendable: the books and throttles are touched only on the
/// feed loop.
public final class MarketState: @unchecked Sendable {
    private let services: GatewayServices
    public let feedLoop: any EventLoop
    private let latest = NIOLockedValueBox<[String: String]>([:])
    private var books: [String: OrderBook] = [:]
    private var throttled: [String: Throttle] = [:]
    /// Depth at the 100 ms and 1 s cadences, per cadence and symbol (feed loop only).
    private var conflators: [DepthCadence: [String: DepthConflator]] = [:]
    private var lastDepthTs: [String: JSONValue] = [:]
    /// Uptime (ns) of the last feed message, for feed-stall alerts.
    private let lastMessageAt = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
    /// Per event, the least time between two messages of one symbol (SPEC §5 feed.throttleMs).
    private let throttleIntervals: [String: TimeAmount]

    struct Throttle {
        var lastSent = NIODeadline.uptimeNanoseconds(0)
        var pending: (room: String, payload: String)?
        var scheduled = false
    }

    /// Feed messages handed to the feed loop and not yet published; bounded by `maxPending`.
    private let pending = Atomic<Int>(0)
    public let maxPending: Int

    public init(services: GatewayServices, feedLoop: any EventLoop, maxPending: Int = 50_000) {
        self.services = services
        self.feedLoop = feedLoop
        self.maxPending = maxPending
        let throttles = services.settings.throttles
        throttleIntervals = [
            "price.update": .milliseconds(Int64(throttles.pricesMs)),
            "market.ticker": .milliseconds(Int64(throttles.tickerMs)),
            "market.stats": .milliseconds(Int64(throttles.statsMs)),
        ]
        for cadence in DepthCadence.allCases {
            guard let interval = cadence.interval else { continue }
            conflators[cadence] = [:]
            feedLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
                guard let self else { return task.cancel() }
                self.flushDepth(cadence, symbols: nil)
            }
        }
    }

    // MARK: Publishing (feed loop)

    /// Counts and publishes messages from one source, in order, on the feed loop. When the
    /// feed loop is already `maxPending` messages behind, the batch is refused whole (counted
    /// as `overloaded`) and false returned: a producer faster than the gateway cannot grow its
    /// queue without limit.
    @discardableResult
    public func ingest(_ messages: [FeedMessage], source: String) -> Bool {
        let metrics = services.metrics
        let count = messages.count
        guard pending.add(count, ordering: .relaxed).newValue <= maxPending else {
            pending.subtract(count, ordering: .relaxed)
            metrics.feedRejected(source: source, reason: "overloaded").increment(by: Int64(count))
            BadInputLog.shared.log(services.logger, "Feed messages refused: the feed loop is behind", metadata: ["feed.source": "\(source)"])
            return false
        }
        lastMessageAt.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
        feedLoop.execute { [self] in
            for message in messages {
                metrics.feedMessages(source: source, type: message.type).increment(by: 1)
                publish(message)
            }
            pending.subtract(count, ordering: .relaxed)
        }
        return true
    }

    public func publish(_ message: FeedMessage) {
        feedLoop.preconditionInEventLoop()
        switch message {
        case .tick(let tick):
            let payload = JSONSerializer.serialize(.object([
                "symbol": .string(tick.symbol), "price": tick.price.json, "bid": tick.bid.json, "ask": tick.ask.json,
                "volume": tick.volume.json, "ts": tick.ts,
            ]))
            publishThrottled(event: "price.update", symbol: tick.symbol, payload: payload)
        case .trade(let trade):
            let fields: [JSONMember] = [
                JSONMember("tradeId", trade.tradeId), JSONMember("price", trade.price.json), JSONMember("qty", trade.qty.json),
                JSONMember("side", .string(trade.side)), JSONMember("ts", trade.ts),
            ]
            let priceTrade = JSONSerializer.serialize(.object([JSONMember("symbol", .string(trade.symbol))] + fields))
            services.broadcaster.emit(namespace: "/prices", room: "prices:" + trade.symbol, event: "price.trade", payloadJSON: priceTrade)
            let marketTrades = JSONSerializer.serialize(.object(["symbol": .string(trade.symbol), "trades": .array([.object(fields)])]))
            services.broadcaster.emit(namespace: "/market", room: "market:trades:" + trade.symbol, event: "market.trades", payloadJSON: marketTrades)
        case .ticker(let symbol, let payload):
            publishThrottled(event: "market.ticker", symbol: symbol, payload: JSONSerializer.serialize(payload))
        case .stats(let symbol, let payload):
            publishThrottled(event: "market.stats", symbol: symbol, payload: JSONSerializer.serialize(payload))
        case .status(let symbol, let status, let ts):
            let payload = JSONSerializer.serialize(.object(["symbol": .string(symbol), "status": .string(status), "ts": ts]))
            services.broadcaster.emit(
                namespace: "/market", event: "market.status", payloadJSON: payload,
                conflation: ConflationKey(namespace: "/market", stream: "market.status|" + symbol, policy: .latestWins)
            )
        case .depth(let depth):
            publishDepth(depth)
        }
    }

    private func publishDepth(_ depth: FeedMessage.Depth) {
        var book = books[depth.symbol] ?? OrderBook(symbol: depth.symbol)
        let outcome: OrderBook.Outcome
        do {
            outcome = try book.apply(depth)
        } catch {
            services.metrics.feedRejected(source: "book", reason: error.reason.rawValue).increment(by: 1)
            BadInputLog.shared.log(services.logger, "Depth message skipped", metadata: ["feed.symbol": "\(depth.symbol)", "error.type": "\(error.reason.rawValue)"])
            return
        }
        books[depth.symbol] = book
        lastDepthTs[depth.symbol] = depth.ts
        for cadence in conflators.keys {
            conflators[cadence]![depth.symbol, default: DepthConflator()].record(outcome, depth)
        }
        let payload: String
        switch outcome {
        case .snapshot:
            // Also the resync after a gap: every subscriber gets the fresh book.
            payload = Self.snapshotJSON(book, ts: depth.ts)
        case .delta(let prevSeq):
            payload = JSONSerializer.serialize(.object([
                "symbol": .string(depth.symbol), "type": "delta", "seq": .number(String(depth.seq)), "prevSeq": .number(String(prevSeq)),
                "bids": .array(depth.bids.map(\.json)), "asks": .array(depth.asks.map(\.json)),
                "checksum": .number(String(book.checksum)), "ts": depth.ts,
            ]))
        case .gap:
            // Stale until the next snapshot: nobody gets a delta that does not chain.
            services.metrics.feedGaps(symbol: depth.symbol).increment(by: 1)
            services.logger.info("Depth sequence gap; waiting for a snapshot", metadata: ["feed.symbol": "\(depth.symbol)"])
            return
        }
        emitDepth(payload, room: DepthCadence.raw.room(depth.symbol))
    }

    /// Sends each symbol's merged delta (or snapshot) for one cadence; `symbols` nil: all.
    private func flushDepth(_ cadence: DepthCadence, symbols: [String]?) {
        guard var perSymbol = conflators[cadence] else { return }
        for symbol in symbols ?? Array(perSymbol.keys) {
            guard var conflator = perSymbol[symbol], let book = books[symbol] else { continue }
            let emission = conflator.flush(book)
            perSymbol[symbol] = conflator
            guard let emission else { continue }
            let ts = lastDepthTs[symbol] ?? .number(String(WallClock.milliseconds()))
            let payload: String
            switch emission {
            case .snapshot:
                payload = Self.snapshotJSON(book, ts: ts)
            case .delta(let prevSeq, let seq, let bids, let asks):
                payload = JSONSerializer.serialize(.object([
                    "symbol": .string(symbol), "type": "delta", "seq": .number(String(seq)), "prevSeq": .number(String(prevSeq)),
                    "bids": .array(bids.map(\.json)), "asks": .array(asks.map(\.json)),
                    "checksum": .number(String(book.checksum)), "ts": ts,
                ]))
            }
            emitDepth(payload, room: cadence.room(symbol))
        }
        conflators[cadence] = perSymbol
    }

    /// Depth messages chain: a socket that falls behind is resynced with a snapshot.
    private func emitDepth(_ payload: String, room: String) {
        services.broadcaster.emit(
            namespace: "/market", room: room, event: "market.depth", payloadJSON: payload,
            conflation: ConflationKey(namespace: "/market", stream: room, policy: .resyncBySnapshot)
        )
    }

    /// Prices, tickers and stats: a socket that falls behind gets only the newest.
    private func emitLatest(_ event: String, room: String, payload: String) {
        let namespace = event == "price.update" ? "/prices" : "/market"
        services.broadcaster.emit(
            namespace: namespace, room: room, event: event, payloadJSON: payload,
            conflation: ConflationKey(namespace: namespace, stream: event + "|" + room, policy: .latestWins)
        )
    }

    static func snapshotJSON(_ book: OrderBook, ts: JSONValue) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(book.symbol), "type": "snapshot", "seq": .number(String(book.seq ?? 0)), "prevSeq": .null,
            "bids": .array(book.bidLevels().map(\.json)), "asks": .array(book.askLevels().map(\.json)),
            "checksum": .number(String(book.checksum)), "ts": ts,
        ]))
    }

    /// Sends at once when the symbol's last message on this channel is at least the throttle
    /// old, else keeps the newest and sends it when the interval ends. Prices, tickers and
    /// stats are latest-value data: a lagging socket conflates them too.
    private func publishThrottled(event: String, symbol: String, payload: String) {
        let key = event + "|" + symbol
        let room: String
        switch event {
        case "price.update": room = "prices:" + symbol
        case "market.ticker": room = "market:ticker:" + symbol
        default: room = "market:stats:" + symbol
        }
        latest.withLockedValue { $0[key] = payload }
        let interval = throttleIntervals[event] ?? .zero
        guard interval > .zero else { return emitLatest(event, room: room, payload: payload) }
        var entry = throttled[key] ?? Throttle()
        let now = NIODeadline.now()
        if now - entry.lastSent >= interval {
            entry.lastSent = now
            emitLatest(event, room: room, payload: payload)
        } else {
            entry.pending = (room, payload)
            if !entry.scheduled {
                entry.scheduled = true
                feedLoop.scheduleTask(deadline: entry.lastSent + interval) { [self] in flushThrottled(key: key, event: event) }
            }
        }
        throttled[key] = entry
    }

    private func flushThrottled(key: String, event: String) {
        guard var entry = throttled[key] else { return }
        entry.scheduled = false
        if let (room, payload) = entry.pending {
            entry.pending = nil
            entry.lastSent = NIODeadline.now()
            emitLatest(event, room: room, payload: payload)
        }
        throttled[key] = entry
    }

    /// Seconds since the last feed message (or since start-up).
    public var secondsSinceLastMessage: Double {
        Double(NIODeadline.now().uptimeNanoseconds &- lastMessageAt.load(ordering: .relaxed)) / 1e9
    }

    // MARK: State on subscribe

    /// The latest payload of `event` (`price.update`, `market.ticker`, `market.stats`) for each
    /// symbol that has one, as JSON fragments.
    func latest(_ event: String, symbols: [String]) -> [JSONValue] {
        latest.withLockedValue { store in symbols.compactMap { store[event + "|" + $0].map(JSONValue.fragment) } }
    }

    /// Takes the books' snapshots on the feed loop and runs `join` on the socket's loop before
    /// any later delta reaches it, so the stream continues from exactly those snapshots.
    ///
    /// For a conflated cadence, that cadence's pending deltas go out first (a little early), so
    /// its next delta chains onto the snapshot the new subscriber gets.
    func withDepthSnapshots(_ symbols: [String], cadence: DepthCadence, socketLoop: any EventLoop, join: @escaping @Sendable ([JSONValue]) -> Void) {
        feedLoop.execute { [self] in
            if cadence != .raw { flushDepth(cadence, symbols: symbols) }
            let snapshots = symbols.compactMap { symbol -> JSONValue? in
                guard let book = books[symbol], !book.isStale else { return nil }
                return .fragment(Self.snapshotJSON(book, ts: .number(String(WallClock.milliseconds()))))
            }
            if socketLoop === feedLoop { join(snapshots) } else { socketLoop.execute { join(snapshots) } }
        }
    }
}
