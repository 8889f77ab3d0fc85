import GatewayCore
import GatewayJSON
import MarketFeed

/// Depth on the feed loop: every message applied to its book (``DepthBooks``), sent raw to
/// `raw` subscribers and merged per cadence for the others.
extension MarketState {
    func publishDepth(_ depth: FeedMessage.Depth) {
        let update = books.apply(depth)
        let dropped = books.takeDroppedLevels()
        if dropped > 0 {
            metrics.countRefusal(.bookLevels, by: dropped)
            BadInputLog.shared.log(logger, "Book levels past feed.maxBookLevels dropped", metadata: [
                "feed.symbol": "\(depth.symbol)", "limit.levels": "\(books.maxLevels)",
            ])
        }
        let symbol = depth.symbol
        switch update {
        case .publish(let payload, let sequences):
            if depth.kind == .snapshot { bookHealed(symbol) }
            emitDepth(payload, room: .depth(symbol: symbol, cadence: .raw), sequences: sequences)
            emitViews(books.updateViews(symbol: symbol, cadence: .raw, touched: depth.kind == .delta ? depth : nil))
        case .restarted(let payload, let previousSeq, let seq):
            // Every depth subscriber learns that the sequence began again, then gets the book.
            declareToDepthRooms(of: symbol, bookSeq: previousSeq, toSeq: seq, reason: .restart)
            bookHealed(symbol)
            emitDepth(payload, room: .depth(symbol: symbol, cadence: .raw), sequences: seq...seq)
            emitViews(books.updateViews(symbol: symbol, cadence: .raw))
        case .gap(let expected, let got):
            // Stale until the next snapshot: nobody gets a delta that does not chain, and every
            // depth subscriber is told what the feed skipped.
            metrics.feedGaps(symbol: freshness.metricLabel(symbol)).increment(by: 1)
            logger.info("Depth sequence gap; waiting for a snapshot", metadata: ["feed.symbol": "\(symbol)"])
            if let expected {
                declareToDepthRooms(of: symbol, bookSeq: expected - 1, toSeq: got - 1, reason: .feedGap)
                emitToDepthRooms(of: symbol, event: "market.stale", payload: MarketNotices.bookStale(symbol: symbol, lastSourceTs: depth.ts))
                feeds[symbol]?.bookBroken = true
            }
        case .rejected(let error):
            metrics.feedRejected(source: "book", reason: error.reason.rawValue).increment(by: 1)
            BadInputLog.shared.log(logger, "Depth message skipped", metadata: ["feed.symbol": "\(depth.symbol)", "error.type": "\(error.reason.rawValue)"])
        }
    }

    /// Sends each symbol's merged delta (or snapshot) for one cadence, and its depth-N views';
    /// `symbols` nil: all.
    func flushDepth(_ cadence: DepthCadence, symbols: [String]?) {
        for emitted in books.flush(cadence, symbols: symbols, now: .number(String(WallClock.milliseconds()))) {
            emitDepth(emitted.payload, room: .depth(symbol: emitted.symbol, cadence: cadence), sequences: emitted.sequences)
        }
        emitViews(books.flushViews(cadence, symbols: symbols))
    }

    private func emitViews(_ updates: [(room: Room, emitted: DepthBooks.Emitted)]) {
        for (room, emitted) in updates { emitDepth(emitted.payload, room: room, sequences: emitted.sequences) }
    }

    /// Depth messages chain: a socket that falls behind is resynced with a snapshot.
    func emitDepth(_ payload: String, room: Room, sequences: ClosedRange<UInt64>) {
        emit(to: room, event: "market.depth", payloadJSON: payload, conflation: .resyncBySnapshot, sequences: sequences)
    }

    /// To every depth subscriber of `symbol`, whatever its cadence and depth (each socket is in
    /// one depth room per symbol): one encoding, all rooms.
    func emitToDepthRooms(of symbol: String, event: String, payload: String) {
        emit(to: DepthCadence.rooms(symbol).map(\.key), event: event, payloadJSON: payload)
    }

    /// `market.gap` to each depth room of `symbol`, from one past the `seq` its subscribers hold
    /// (the raw book's `bookSeq`, a cadence's last merged emission, a view's) to `toSeq`: a
    /// cadence's pending merged changes are skipped too. Rooms that hold nothing yet get none.
    private func declareToDepthRooms(of symbol: String, bookSeq: UInt64, toSeq: UInt64, reason: MarketNotices.GapReason) {
        for room in DepthCadence.rooms(symbol) {
            guard let held = books.heldSeq(room, bookSeq: bookSeq) else { continue }
            emit(to: [room.key], event: "market.gap", payloadJSON: MarketNotices.gap(
                // Saturating: a producer's seq may be UInt64.max, and a trap stops every client.
                symbol: symbol, channel: .depth, fromSeq: held == .max ? held : held + 1, toSeq: toSeq, reason: reason
            ))
        }
    }

    /// A snapshot arrived: a book broken by a feed gap is whole again, and its subscribers hear so
    /// before they get it (depth-N subscribers too get a snapshot, not a delta: a client may have
    /// dropped its book when told it was stale).
    private func bookHealed(_ symbol: String) {
        guard feeds[symbol]?.bookBroken == true else { return }
        feeds[symbol]!.bookBroken = false
        books.invalidateViews(of: symbol)
        emitToDepthRooms(of: symbol, event: "market.live", payload: MarketNotices.bookLive(symbol: symbol))
    }

    /// Forgets the depth-N views nobody here holds any more (a view made for a subscriber that is
    /// about to join is spared: `recentViews`, swept in ``MarketState/startFreshnessChecks()``).
    func dropUnheldViews(spare: Set<DepthBooks.ViewKey>) {
        books.dropViews { key in spare.contains(key) || interest.isWanted(key.room) }
    }
}
