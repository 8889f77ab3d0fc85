import GatewayJSON
import GatewayCore
import MarketFeed
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The market as the feed left it, and the fan-out of each feed message (SPEC §5). Feed
/// messages are published on one event loop (`feedLoop`), in order; each is encoded once and
/// broadcast to its room. Latest values (under a lock) and books (feed loop only) serve
/// state-on-subscribe. Unchecked Sendable: the books and throttles are touched only on the
/// feed loop. Books and cadences: MarketState+Depth.swift; throttles: MarketState+Throttle.swift.
public final class MarketState: FeedSink, @unchecked Sendable {
    let services: GatewayServices
    public let feedLoop: any EventLoop
    let latestPayloads = NIOLockedValueBox<[String: String]>([:])
    var books: [String: OrderBook] = [:]
    var throttled: [String: Throttle] = [:]
    /// Depth at the 100 ms and 1 s cadences, per cadence and symbol (feed loop only).
    var conflators: [DepthCadence: [String: DepthConflator]] = [:]
    var lastDepthTs: [String: JSONValue] = [:]
    /// Uptime (ns) of the last feed message, for feed-stall alerts.
    private let lastMessageAt = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
    /// Per event, the least time between two messages of one symbol (SPEC §5 feed.throttleMs).
    let throttleIntervals: [String: TimeAmount]

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
            services.publisher.emit(to: .prices(trade.symbol), event: "price.trade", payloadJSON: priceTrade)
            let marketTrades = JSONSerializer.serialize(.object(["symbol": .string(trade.symbol), "trades": .array([.object(fields)])]))
            services.publisher.emit(to: .market("trades", trade.symbol), event: "market.trades", payloadJSON: marketTrades)
        case .ticker(let symbol, let payload):
            publishThrottled(event: "market.ticker", symbol: symbol, payload: JSONSerializer.serialize(payload))
        case .stats(let symbol, let payload):
            publishThrottled(event: "market.stats", symbol: symbol, payload: JSONSerializer.serialize(payload))
        case .status(let symbol, let status, let ts):
            let payload = JSONSerializer.serialize(.object(["symbol": .string(symbol), "status": .string(status), "ts": ts]))
            services.publisher.emit(
                namespace: MarketBehavior.path, event: "market.status", payloadJSON: payload,
                conflation: ConflationKey(namespace: MarketBehavior.path, stream: "market.status|" + symbol, policy: .latestWins)
            )
        case .depth(let depth):
            publishDepth(depth)
        }
    }

    /// Prices, tickers and stats: a socket that falls behind gets only the newest.
    func emitLatest(_ event: String, room: Room, payload: String) {
        services.publisher.emit(
            to: room, event: event, payloadJSON: payload,
            conflation: ConflationKey(namespace: room.namespace, stream: event + "|" + room.name, policy: .latestWins)
        )
    }

    /// Seconds since the last feed message (or since start-up).
    public var secondsSinceLastMessage: Double {
        Double(NIODeadline.now().uptimeNanoseconds &- lastMessageAt.load(ordering: .relaxed)) / 1e9
    }

    // MARK: State on subscribe

    /// The latest payload of `event` (`price.update`, `market.ticker`, `market.stats`) for each
    /// symbol that has one, as JSON fragments.
    func latest(_ event: String, symbols: [String]) -> [JSONValue] {
        latestPayloads.withLockedValue { store in symbols.compactMap { store[event + "|" + $0].map(JSONValue.fragment) } }
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
