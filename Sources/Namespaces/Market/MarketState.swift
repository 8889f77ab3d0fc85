import GatewayCore
import GatewayJSON
import GatewayMetrics
import Logging
import MarketFeed
import NIOCore

/// The market as the feed left it, and the fan-out of each feed message (SPEC §5): the
/// ``FeedSink`` every source delivers to. Messages are published on one event loop
/// (`feedLoop`), in order; each is encoded once and published to its room.
///
/// The parts, each its own type: ``FeedIngestQueue`` (the bound on waiting messages),
/// ``Throttle`` (feed.throttleMs per stream), ``DepthBooks`` (books and cadences),
/// ``MarketPayloads`` (the JSON), ``LatestValues`` (state-on-subscribe). This class wires them
/// to the publisher. Unchecked Sendable: the books and throttles are touched only on the feed
/// loop. Depth: MarketState+Depth.swift; throttles: MarketState+Throttle.swift.
public final class MarketState: FeedSink, @unchecked Sendable {
    /// Levels kept per side of a book (`feed.maxBookLevels`): the deepest a client can ask for.
    public static let defaultMaxBookLevels = 1_000
    public let feedLoop: any EventLoop
    let publisher: any Publisher
    let metrics: GatewayMetrics
    let logger: Logger
    let latestValues = LatestValues()
    /// Feed loop only.
    var books: DepthBooks
    /// Feed loop only; keyed by event and symbol.
    var throttles: [LatestStream.Key: Throttle<String>] = [:]
    /// Per event, the least time between two messages of one symbol (SPEC §5 feed.throttleMs).
    let throttleIntervals: [String: TimeAmount]
    private let queue: FeedIngestQueue
    /// While a feed batch is published (feed loop only): its messages, sent in one go at its end.
    private var batch: [Publication]?
    /// Feed loop only: each symbol's feed, sequences and freshness (MarketState+Freshness.swift).
    var feeds: [String: SymbolFeed] = [:]
    /// Feed loop only: each symbol's last trade ids from producers that may retry (http, redis).
    var recentTrades: [String: RecentTradeIds] = [:]
    /// Feed loop only: when each heartbeat room last beat.
    var lastBeats: [Room: NIODeadline] = [:]
    /// Feed loop only: the time of the batch being published (one clock read per batch).
    var batchClock: NIODeadline?
    /// Feed loop only: depth-N views made since the last sweep (spared by it).
    var recentViews: Set<DepthBooks.ViewKey> = []
    let freshness: FeedFreshness
    /// Stale symbols, for readers off the feed loop.
    public let board: FreshnessBoard
    /// Heartbeat and depth-view rooms with members here.
    let interest: MarketInterest
    /// This run of the gateway: sequences start again when it changes (docs/market-data.md).
    public let epoch: String

    public init(
        feedLoop: any EventLoop, publisher: any Publisher, throttles: FeedThrottles, metrics: GatewayMetrics, logger: Logger,
        maxPending: Int = 50_000, maxBookLevels: Int = MarketState.defaultMaxBookLevels,
        freshness: FeedFreshness = FeedFreshness(), board: FreshnessBoard = FreshnessBoard(), interest: MarketInterest = MarketInterest()
    ) {
        self.feedLoop = feedLoop
        self.freshness = freshness
        self.board = board
        self.interest = interest
        epoch = String(WallClock.milliseconds(), radix: 36) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        books = DepthBooks(cadences: DepthCadence.allCases.filter { $0.interval != nil }, maxLevels: maxBookLevels)
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
        queue = FeedIngestQueue(maxPending: maxPending)
        throttleIntervals = [
            "price.update": .milliseconds(Int64(throttles.pricesMs)),
            "market.ticker": .milliseconds(Int64(throttles.tickerMs)),
            "market.stats": .milliseconds(Int64(throttles.statsMs)),
        ]
        for cadence in DepthCadence.allCases {
            guard let interval = cadence.interval else { continue }
            feedLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
                guard let self else { return task.cancel() }
                self.flushDepth(cadence, symbols: nil)
            }
        }
        startFreshnessChecks()
    }

    // MARK: Publishing (feed loop)

    /// Counts and publishes messages from one source, in order, on the feed loop. When the
    /// feed loop is already `maxPending` messages behind, the batch is refused whole (counted
    /// as `overloaded`) and false returned.
    @discardableResult
    public func ingest(_ messages: [FeedMessage], source: String) -> Bool {
        let metrics = metrics
        let count = messages.count
        guard queue.admit(count) else {
            metrics.feedRejected(source: source, reason: "overloaded").increment(by: Int64(count))
            BadInputLog.shared.log(logger, "Feed messages refused: the feed loop is behind", metadata: ["feed.source": "\(source)"])
            return false
        }
        feedLoop.execute { [self] in
            batch = []
            batchClock = NIODeadline.now()
            // Counted per type once per batch: a labelled-counter lookup per message was 5 % of
            // the ingest profile.
            var counted: [(type: String, count: Int64)] = []
            for message in messages {
                let type = message.type
                if let index = counted.firstIndex(where: { $0.type == type }) {
                    counted[index].count += 1
                } else {
                    counted.append((type, 1))
                }
                publish(message, source: source)
            }
            for (type, count) in counted { metrics.feedMessages(source: source, type: type).increment(by: count) }
            if let publications = batch { publisher.publish(publications) }
            batch = nil
            batchClock = nil
            queue.published(count)
        }
        return true
    }

    /// `source`: where it came from (its symbol's `feed.staleAfterMs` is that source's).
    public func publish(_ message: FeedMessage, source: String = "direct") {
        feedLoop.preconditionInEventLoop()
        let symbol = message.symbol
        arrived(symbol, sourceTs: message.sourceTs, source: source)
        switch message {
        case .tick(let tick):
            let seq = feeds[symbol]!.nextTickSeq()  // made by arrived(_:)
            publishThrottled(.price, symbol: tick.symbol, payload: MarketPayloads.priceUpdate(tick, seq: seq))
        case .trade(let trade):
            // A producer's retry (its trade id again) is dropped: delivered once (docs/integration.md).
            if Self.retryingSources.contains(source), !recentTrades[symbol, default: RecentTradeIds()].insert(trade.tradeId) {
                metrics.countIdempotentRepeat(kind: "trade")
                return
            }
            let seq = feeds[symbol]!.nextTradeSeq()
            let (priceTrade, marketTrades) = MarketPayloads.trade(trade, seq: seq)
            // A lagging socket skips older trades and is told which (docs/market-data.md).
            emit(to: .prices(symbol: trade.symbol), event: "price.trade", payloadJSON: priceTrade, conflation: .declaredGap, sequences: seq...seq)
            emit(to: .market(.trades, symbol: trade.symbol), event: "market.trades", payloadJSON: marketTrades, conflation: .declaredGap, sequences: seq...seq)
        case .ticker(let symbol, let payload):
            publishThrottled(.ticker, symbol: symbol, payload: JSONSerializer.serialize(payload))
        case .stats(let symbol, let payload):
            publishThrottled(.stats, symbol: symbol, payload: JSONSerializer.serialize(payload))
        case .status(let symbol, let status, let ts):
            emit(
                to: [.everyone(in: MarketBehavior.path)], event: "market.status",
                payloadJSON: MarketPayloads.status(symbol: symbol, status: status, ts: ts), conflation: .marketStatus(symbol)
            )
        case .depth(let depth):
            publishDepth(depth)
        }
    }

    /// Sources whose producers may send a trade again after a timeout; the simulator and a
    /// looping replay repeat ids on purpose.
    static let retryingSources: Set<String> = ["http", "redis"]

    /// Prices, tickers and stats: a socket that falls behind gets only the newest.
    func emitLatest(_ stream: LatestStream, symbol: String, payload: String) {
        emit(to: stream.room(symbol), event: stream.event, payloadJSON: payload, conflation: .latestWins)
    }

    /// `conflation`: how a lagging socket may skip this room's stream of `event`; `sequences`:
    /// the stream sequences the message carries. The room's name is built once per message, for
    /// the publish and the conflation key alike. Counts as sent for the room's symbol.
    func emit(to room: Room, event: String, payloadJSON: String, conflation policy: ConflationKey.Policy? = nil, sequences: ClosedRange<UInt64>? = nil) {
        let key = room.key
        let symbolAndNamespace = room.symbolAndNamespace
        // A declared gap names its symbol: the notice is built from the key, no room lookup.
        let conflation = policy.map { policy in
            ConflationKey(.init(room: key, event: event, subject: policy == .declaredGap ? symbolAndNamespace?.0 ?? "" : ""), policy: policy)
        }
        if let (symbol, namespace) = symbolAndNamespace { markSent(symbol, in: namespace) }
        emit(to: [key], event: event, payloadJSON: payloadJSON, conflation: conflation, sequences: sequences)
    }

    /// Encodes once; inside a feed batch the message waits for the batch's single send (in
    /// order with the rest). A member of several `rooms` gets it once.
    func emit(to rooms: [RoomKey], event: String, payloadJSON: String, conflation: ConflationKey? = nil, sequences: ClosedRange<UInt64>? = nil) {
        guard let namespace = rooms.first?.namespace else { return }
        let message = OutboundMessage.event(namespace: namespace, name: event, payloadJSON: payloadJSON, conflation: conflation, sequences: sequences)
        if batch != nil {
            batch!.append(Publication(message, to: rooms))
        } else {
            publisher.publish(message, to: rooms, ordered: false)
        }
    }

    /// Forgets everything kept for `symbol` (book, merged deltas, latest values, throttles) on
    /// the feed loop, when `stillIdle` (run there, after every message queued before it) says
    /// so: a learned symbol gone idle. True when it was forgotten.
    public func forget(_ symbol: String, if stillIdle: @escaping @Sendable () -> Bool) -> EventLoopFuture<Bool> {
        feedLoop.submit { [self] in
            guard stillIdle() else { return false }
            books.forget(symbol)
            stopJudging(symbol)
            feeds[symbol] = nil
            recentTrades[symbol] = nil
            latestValues.remove(symbol: symbol)
            for stream in LatestStream.allCases { throttles[.init(stream: stream, symbol: symbol)] = nil }
            return true
        }
    }

    /// Seconds since the last feed message (or since start-up).
    public var secondsSinceLastMessage: Double { queue.secondsSinceLastMessage }

    // MARK: State on subscribe

    /// The latest payload of `stream` for each symbol that has one, as JSON fragments.
    func latest(_ stream: LatestStream, symbols: [String]) -> [JSONValue] {
        latestValues.latest(stream, symbols: symbols)
    }

    /// Takes the books' snapshots (or depth-N views', `levels`) on the feed loop and runs `join`
    /// on the socket's loop after every earlier delta and before any later one (both travel
    /// through the loop's inbox), so the stream continues from exactly those snapshots.
    ///
    /// For a conflated cadence, that cadence's pending deltas go out first (a little early), so
    /// its next delta chains onto the snapshot the new subscriber gets.
    func withDepthSnapshots(
        _ symbols: [String], cadence: DepthCadence, levels: DepthLevels? = nil, socket: NamespaceSocket,
        join: @escaping @Sendable ([DepthSnapshot]) -> Void
    ) {
        feedLoop.execute { [self] in
            if cadence != .raw { flushDepth(cadence, symbols: symbols) }
            let now = JSONValue.number(String(WallClock.milliseconds()))
            let snapshots: [DepthSnapshot]
            if let levels {
                snapshots = symbols.compactMap { symbol in
                    let key = DepthBooks.ViewKey(symbol: symbol, cadence: cadence, levels: levels)
                    // Spared by the next sweep: its subscriber joins after this.
                    recentViews.insert(key)
                    return books.viewSnapshot(key, ts: now)
                }
            } else {
                snapshots = books.snapshots(symbols, ts: now)
            }
            socket.afterQueuedBroadcasts { join(snapshots) }
        }
    }
}
