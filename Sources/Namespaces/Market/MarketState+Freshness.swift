import GatewayCore
import GatewayJSON
import NIOCore

/// Freshness on the feed loop (docs/market-data.md): each symbol's last word from the feed,
/// `market.stale` when it has been silent past `feed.staleAfterMs`, `market.live` with its next
/// message, and `market.heartbeat` to the heartbeat rooms of quiet symbols. Checked every 250 ms;
/// the per-message cost is one table update.
extension MarketState {
    static let freshnessCheckInterval = TimeAmount.milliseconds(250)
    /// Depth-N views nobody holds are forgotten this often (a view made for a subscriber that
    /// has not joined yet lives through at least one round).
    static let viewSweepInterval = TimeAmount.seconds(10)

    func startFreshnessChecks() {
        feedLoop.scheduleRepeatedTask(initialDelay: Self.freshnessCheckInterval, delay: Self.freshnessCheckInterval) { [weak self] task in
            guard let self else { return task.cancel() }
            self.checkFreshness(now: NIODeadline.now())
        }
        feedLoop.scheduleRepeatedTask(initialDelay: Self.viewSweepInterval, delay: Self.viewSweepInterval) { [weak self] task in
            guard let self else { return task.cancel() }
            self.dropUnheldViews(spare: self.recentViews)
            self.recentViews.removeAll()
        }
    }

    /// The time for this message: the batch's, or now.
    var clock: NIODeadline { batchClock ?? NIODeadline.now() }

    /// A message for `symbol` arrived from `source`: a stale symbol is live again (its
    /// subscribers hear so before the message itself).
    func arrived(_ symbol: String, sourceTs: JSONValue, source: String) {
        let now = clock
        let silent = feeds[symbol, default: SymbolFeed(source: source, now: now)].arrive(source: source, now: now, sourceTs: sourceTs)
        if let silent { becameLive(symbol, silent: silent) }
    }

    /// Something was published for `symbol` in `namespace` (heartbeats wait for silence).
    func markSent(_ symbol: String, in namespace: SymbolNamespace) {
        let now = clock
        switch namespace {
        case .prices: feeds[symbol]?.lastSentPrices = now
        case .market: feeds[symbol]?.lastSentMarket = now
        }
    }

    /// `symbol` is no longer heard here on purpose (cluster mode: nobody here watches it), so
    /// its silence is not the feed's: it is not judged until its next message.
    func stopJudging(_ symbol: String) {
        guard feeds[symbol] != nil else { return }
        if feeds[symbol]!.isStale {
            board.markLive(symbol)
            metrics.feedStaleSymbols(symbol: freshness.metricLabel(symbol)).decrement(by: 1)
        }
        feeds[symbol]!.isStale = false
        feeds[symbol]!.isJudged = false
    }

    func checkFreshness(now: NIODeadline) {
        var silent: [String] = []
        for (symbol, feed) in feeds where !feed.isStale && feed.isJudged {
            if let bound = freshness.staleAfter(source: feed.source), now - feed.lastArrival >= bound { silent.append(symbol) }
        }
        for symbol in silent { becameStale(symbol, now: now) }
        beat(now: now)
    }

    private func becameStale(_ symbol: String, now: NIODeadline) {
        guard let feed = feeds[symbol] else { return }
        feeds[symbol]!.isStale = true
        let wall = WallClock.milliseconds()
        let silentMs = (now - feed.lastArrival).nanoseconds / 1_000_000
        let stale = FreshnessBoard.StaleSymbol(symbol: symbol, lastSourceTs: feed.lastSourceTs, lastArrivalWallMs: wall - silentMs)
        board.markStale(stale)
        let label = freshness.metricLabel(symbol)
        metrics.feedStaleSymbols(symbol: label).increment(by: 1)
        metrics.feedStale(symbol: label).increment(by: 1)
        logger.info("Feed silent for a symbol; subscribers told it is stale", metadata: [
            "feed.symbol": "\(symbol)", "feed.source": "\(feed.source)", "feed.silent_ms": "\(Int(silentMs))",
        ])
        emitToSymbolRooms(symbol, event: "market.stale", payload: JSONSerializer.serialize(stale.payload(now: wall)))
    }

    private func becameLive(_ symbol: String, silent: TimeAmount) {
        board.markLive(symbol)
        metrics.feedStaleSymbols(symbol: freshness.metricLabel(symbol)).decrement(by: 1)
        emitToSymbolRooms(symbol, event: "market.live", payload: MarketNotices.live(symbol: symbol, silentMs: Int(silent.nanoseconds / 1_000_000)))
    }

    /// Every subscriber of `symbol`, once per namespace whatever it holds of it.
    private func emitToSymbolRooms(_ symbol: String, event: String, payload: String) {
        emit(to: [Room.prices(symbol: symbol).key], event: event, payloadJSON: payload)
        let market = [Room.market(.trades, symbol: symbol), .market(.ticker, symbol: symbol), .market(.stats, symbol: symbol)] + DepthCadence.rooms(symbol)
        emit(to: market.map(\.key), event: event, payloadJSON: payload)
    }

    /// Heartbeats to the rooms of symbols nothing was sent for in their interval.
    private func beat(now: NIODeadline) {
        let rooms = interest.heartbeatRooms
        if rooms.count < lastBeats.count {
            let wanted = Set(rooms)
            lastBeats = lastBeats.filter { wanted.contains($0.key) }
        }
        guard !rooms.isEmpty else { return }
        var wall: Int64?
        for room in rooms {
            guard case .heartbeat(let namespace, let symbol, let everyMs) = room else { continue }
            guard let lastBeat = lastBeats[room] else {
                lastBeats[room] = now  // the first beat comes one interval after the first member
                continue
            }
            let feed = feeds[symbol]
            let last = max(lastBeat, feed?.lastSent(in: namespace) ?? lastBeat)
            guard now - last >= .milliseconds(Int64(everyMs)) else { continue }
            lastBeats[room] = now
            let gatewayTs = wall ?? WallClock.milliseconds()
            wall = gatewayTs
            let tradeSeq = feed?.tradeSeq ?? 0
            let depthSeq = books.books[symbol]?.seq
            let seq = namespace == .market ? depthSeq ?? tradeSeq : tradeSeq
            emit(to: [room.key], event: "market.heartbeat", payloadJSON: MarketNotices.heartbeat(
                symbol: symbol, seq: seq, tradeSeq: tradeSeq, priceSeq: feed?.tickSeq ?? 0, depthSeq: depthSeq,
                sourceTs: feed?.lastSourceTs ?? .null, gatewayTs: gatewayTs
            ))
        }
    }
}
